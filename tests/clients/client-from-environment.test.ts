import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { clientResolver } from 'credly/internal'
import { afterEach, beforeEach, expect, it } from 'vitest'
import { contractConfig } from './client-contract.ts'
import { type RealServer, startRealServer } from './real-server.ts'

/**
 * An adapter without a client takes one from the environment: a server's key, or CREDLY_DATABASE
 * and CREDLY_CONFIG for the embedded ledger (`@credly/ledger`, an optional peer of `credly`,
 * imported at run time).
 */
const saved = { ...process.env }
let real: RealServer
let folder: string
beforeEach(async () => {
  real = await startRealServer()
  folder = mkdtempSync(join(tmpdir(), 'credly-env-client-'))
  for (const name of [
    'CREDLY_API_KEY',
    'CREDLY_PROJECT_ID',
    'CREDLY_BASE_URL',
    'CREDLY_DATABASE',
    'CREDLY_CONFIG',
  ]) {
    delete process.env[name]
  }
})
afterEach(async () => {
  process.env = { ...saved }
  await real.close()
  rmSync(folder, { recursive: true, force: true })
})

it('builds an HTTP client from CREDLY_API_KEY, CREDLY_PROJECT_ID and CREDLY_BASE_URL', async () => {
  process.env.CREDLY_BASE_URL = real.baseUrl
  process.env.CREDLY_API_KEY = real.apiKey
  process.env.CREDLY_PROJECT_ID = real.projectId
  const client = await clientResolver(undefined)()
  expect((await client.createUser({ user_id: 'from-env' })).balance).toBe(100)
  expect(real.proxy.received('/v1/users')[0]?.headers.authorization).toBe(`Bearer ${real.apiKey}`)
})

it('explains what to set when nothing is configured, when the adapter is created', async () => {
  expect(() => clientResolver(undefined)).toThrow(/CREDLY_API_KEY.*CREDLY_DATABASE/s)
  process.env.CREDLY_API_KEY = real.apiKey
  expect(() => clientResolver(undefined)).toThrow(/CREDLY_PROJECT_ID/)
  delete process.env.CREDLY_API_KEY
  process.env.CREDLY_DATABASE = ':memory:'
  expect(() => clientResolver(undefined)).toThrow(/CREDLY_CONFIG/)
})

it('with eager: false, reports a missing client on first use instead (code loaded at build time)', async () => {
  const resolve = clientResolver(undefined, { eager: false })
  await expect(resolve()).rejects.toThrow(/CREDLY_API_KEY.*CREDLY_DATABASE/s)
})

it('resolves once and reuses the client', async () => {
  process.env.CREDLY_BASE_URL = real.baseUrl
  process.env.CREDLY_API_KEY = real.apiKey
  process.env.CREDLY_PROJECT_ID = real.projectId
  const resolve = clientResolver(undefined)
  expect(await resolve()).toBe(await resolve())
})

it('CREDLY_DATABASE and CREDLY_CONFIG give the embedded ledger', async () => {
  process.env.CREDLY_DATABASE = join(folder, 'credly.db')
  process.env.CREDLY_CONFIG = join(folder, 'credly.json')
  writeFileSync(process.env.CREDLY_CONFIG, JSON.stringify(contractConfig))
  const client = await clientResolver(undefined)()
  expect(await client.createUser({ user_id: 'ann' })).toMatchObject({ balance: 100 })
  const start = await client.startUsageTransaction({
    user_id: 'ann',
    model: 'unit',
    provisional_tokens: { output_tokens: 5 },
  })
  expect(start).toMatchObject({ continue: true, balance: 95 })
  const local = client as typeof client & {
    verify(): Promise<{ ok: boolean }>
    close(): Promise<void>
  }
  expect((await local.verify()).ok).toBe(true)
  await local.close()
})
