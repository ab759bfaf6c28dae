import { afterEach, beforeEach, expect, it } from 'vitest'
import { type RealServer, startRealServer } from '../../test/support/real-server.ts'
import { clientResolver } from './resolve-client.ts'

const saved = { ...process.env }
let real: RealServer
beforeEach(async () => {
  real = await startRealServer()
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
