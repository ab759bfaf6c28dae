import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, expect, it } from 'vitest'
import { createTestClock } from '../clock.ts'
import { createSqliteStore } from '../stores/sqlite/sqlite-store.ts'
import { testConfig } from '../testing/harness.ts'
import { createLedger, type LedgerOptions } from './ledger.ts'

// Two ledgers on one SQLite file stand for two servers on one database.
let folder: string
const stores: Array<ReturnType<typeof createSqliteStore>> = []
const clock = createTestClock()
const open = (options: Partial<LedgerOptions> = {}) => {
  const store = createSqliteStore({ path: join(folder, 'ledger.db') })
  stores.push(store)
  return createLedger({ store, clock, ...options })
}
beforeEach(() => {
  folder = mkdtempSync(join(tmpdir(), 'credly-api-keys-'))
})
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close()
  rmSync(folder, { recursive: true, force: true })
})

it('a key revoked here is refused at once; revoked by another server, once the cache time passes', async () => {
  const here = open()
  const { id: projectId } = await here.createProject({ config: testConfig })
  const key = await here.createApiKey(projectId, { scope: 'metering' })
  const other = open()
  const identity = { key_id: key.id, project_id: projectId, scope: 'metering' }
  expect(await here.authenticateApiKey(key.key)).toEqual(identity)
  expect(await other.authenticateApiKey(key.key)).toEqual(identity)

  await other.revokeApiKey(projectId, key.id)
  expect(await other.authenticateApiKey(key.key)).toBeUndefined()
  // The first server read the key under 10 s ago (the default): it still trusts it, then not.
  clock.advance(9_999)
  expect(await here.authenticateApiKey(key.key)).toEqual(identity)
  clock.advance(1)
  expect(await here.authenticateApiKey(key.key)).toBeUndefined()
})

it('with apiKeyCacheMs 0 every request reads its key', async () => {
  const here = open({ apiKeyCacheMs: 0 })
  const { id: projectId } = await here.createProject({ config: testConfig })
  const key = await here.createApiKey(projectId, { scope: 'admin' })
  expect((await here.authenticateApiKey(key.key))?.scope).toBe('admin')
  await open().revokeApiKey(projectId, key.id)
  expect(await here.authenticateApiKey(key.key)).toBeUndefined()
  expect(await here.authenticateApiKey('ck_meter_not-a-key')).toBeUndefined()
})
