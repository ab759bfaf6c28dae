import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import pg from 'pg'
import { afterEach, describe, expect, it } from 'vitest'
import { createLedger, createPostgresStore, createSqliteStore, type Store } from '../src/index.ts'
import { migrations as postgresMigrations } from '../src/stores/postgres/schema.ts'
import { migrations as sqliteMigrations } from '../src/stores/sqlite/schema.ts'
import { testConfig } from '../src/testing/index.ts'
import {
  dropSchema,
  newSchemaName,
  postgresAvailable,
  postgresUrl,
} from '../src/testing/postgres.ts'

/**
 * A ledger written before usage reports (no tier or token columns, no refusals) keeps working
 * after the upgrade, and its past calls count in reports: the migration fills the new columns
 * from what each row already holds.
 */
const ROWS = [
  `INSERT INTO projects (id, config, created_at) VALUES ('prj_old', '${JSON.stringify(testConfig)}', 0)`,
  `INSERT INTO users (ref, project_id, user_id, tier_id, available, held, metadata, created_at,
     refill_anchor, refills_applied, next_event_at, deleted_at)
   VALUES ('usr_1', 'prj_old', 'ann', 'free', 90000000, 0, '{}', 0, 0, 0, NULL, NULL)`,
  `INSERT INTO transactions (id, project_id, user_ref, user_id, model, feature_identifier, status,
     reserved, used, provisional_tokens, finalized_tokens, price, estimated, created_at,
     completed_at, expires_at, hold_parts, complete_hash, complete_result)
   VALUES ('txn_1', 'prj_old', 'usr_1', 'ann', 'o4-mini', NULL, 'completed', 0, 10000000, NULL,
     '{"input_tokens": 1000, "cache_write_tokens": 200, "output_tokens": 50, "reasoning_tokens": 20}',
     '{"input": 1.1, "output": 4.4}', FALSE, 1000, 2000, NULL, '[]', NULL, NULL)`,
]

async function expectBackfilled(store: Store) {
  const ledger = createLedger({ store })
  const report = await ledger.getUsage('prj_old', {
    from: '1970-01-01T00:00:00.000Z',
    to: '1970-01-02T00:00:00.000Z',
    group_by: ['tier'],
  })
  expect(report.data).toEqual([
    expect.objectContaining({
      tier_id: 'free',
      calls: 1,
      credits_charged: 10,
      tokens: { input: 1000, cached_input: 0, cache_write: 200, output: 50, reasoning: 20 },
    }),
  ])
  // The upgraded ledger writes as before, refusals included.
  const refused = await ledger.startUsage('prj_old', {
    user_id: 'ann',
    model: 'unit',
    provisional_tokens: { output_tokens: 1000 },
  })
  expect(refused.reason).toBe('insufficient_credits')
  expect((await ledger.getUsage('prj_old')).totals.refusals.insufficient_credits).toBe(1)
}

describe('upgrading a SQLite ledger from before usage reports', () => {
  let folder: string | undefined
  afterEach(() => {
    if (folder) rmSync(folder, { recursive: true, force: true })
  })

  it('fills the tier and token columns of existing calls', async () => {
    folder = mkdtempSync(join(tmpdir(), 'credly-migrate-'))
    const path = join(folder, 'old.db')
    const old = new DatabaseSync(path)
    for (const migration of sqliteMigrations.slice(0, 2)) old.exec(migration)
    old.exec('PRAGMA user_version = 2')
    for (const row of ROWS) old.exec(row)
    old.close()
    const store = createSqliteStore({ path })
    try {
      await expectBackfilled(store)
    } finally {
      await store.close()
    }
  })
})

describe.runIf(await postgresAvailable())(
  'upgrading a PostgreSQL ledger from before usage reports',
  () => {
    let schema: string | undefined
    afterEach(async () => {
      if (schema) await dropSchema(schema)
    })

    it('fills the tier and token columns of existing calls', async () => {
      schema = newSchemaName()
      const client = new pg.Client({
        connectionString: postgresUrl,
        options: `-c search_path=${schema}`,
      })
      await client.connect()
      try {
        await client.query(`CREATE SCHEMA ${schema}`)
        await client.query(
          'CREATE TABLE credly_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())',
        )
        await client.query(postgresMigrations[0] as string)
        await client.query('INSERT INTO credly_migrations (version) VALUES (1)')
        for (const row of ROWS) await client.query(row)
      } finally {
        await client.end()
      }
      const store = createPostgresStore({ url: postgresUrl, schema })
      try {
        await expectBackfilled(store)
      } finally {
        await store.close()
      }
    })
  },
)
