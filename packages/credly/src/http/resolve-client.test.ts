import { afterEach, beforeEach, expect, it } from 'vitest'
import { API_KEY, ContractServer, PROJECT_ID } from '../testing/index.ts'
import { clientResolver } from './resolve-client.ts'

const saved = { ...process.env }
let server: ContractServer
beforeEach(async () => {
  server = new ContractServer()
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
  await server.close()
})

it('builds an HTTP client from CREDLY_API_KEY, CREDLY_PROJECT_ID and CREDLY_BASE_URL', async () => {
  process.env.CREDLY_BASE_URL = await server.listen()
  process.env.CREDLY_API_KEY = API_KEY
  process.env.CREDLY_PROJECT_ID = PROJECT_ID
  const client = await clientResolver(undefined)()
  expect((await client.createUser({ user_id: 'from-env' })).balance).toBe(100)
  expect(server.received('/v1/users')[0]?.headers.authorization).toBe(`Bearer ${API_KEY}`)
})

it('explains what to set when nothing is configured', async () => {
  await server.listen()
  await expect(clientResolver(undefined)()).rejects.toThrow(/CREDLY_API_KEY.*CREDLY_DATABASE/s)
  process.env.CREDLY_DATABASE = ':memory:'
  await expect(clientResolver(undefined)()).rejects.toThrow(/CREDLY_CONFIG/)
})

it('resolves once and reuses the client', async () => {
  process.env.CREDLY_BASE_URL = await server.listen()
  process.env.CREDLY_API_KEY = API_KEY
  process.env.CREDLY_PROJECT_ID = PROJECT_ID
  const resolve = clientResolver(undefined)
  expect(await resolve()).toBe(await resolve())
})
