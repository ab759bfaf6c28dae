import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { DAY_MS, WEEK_MS, weekStart } from '../src/calendar.ts'
import { createLedger, createPostgresStore } from '../src/index.ts'
import { runStoreContract, testConfig } from '../src/testing/index.ts'
import {
  dropSchema,
  newSchemaName,
  postgresAvailable,
  postgresFactory,
  postgresUrl,
} from '../src/testing/postgres.ts'

/** Every contract suite on the real PostgreSQL of this machine, in a fresh schema per test. */
const available = await postgresAvailable()
describe.runIf(available)('PostgreSQL store', () => {
  runStoreContract(postgresFactory, {
    propertyRuns: Number(process.env.CREDLY_PROPERTY_RUNS ?? 25),
  })

  it('adds up a report by user exactly over a week whose sums pass 64-bit integers', async () => {
    // Per-user week totals are BIGINT; a week past them (1,100 calls of 2^53 - 1 micro-credits,
    // written directly: no ledger call charges that much) stays read call by call, in NUMERIC.
    const schema = newSchemaName()
    const store = createPostgresStore({ url: postgresUrl, schema })
    const client = new pg.Client({
      connectionString: postgresUrl,
      options: `-c search_path=${schema}`,
    })
    try {
      const ledger = createLedger({ store })
      const { id: projectId } = await ledger.createProject({ config: testConfig })
      await ledger.createUser(projectId, { user_id: 'ann' })
      await client.connect()
      const week = weekStart(Date.now()) - 2 * WEEK_MS
      const big = Number.MAX_SAFE_INTEGER
      await client.query(
        `INSERT INTO transactions (id, project_id, user_ref, user_id, tier_id, model, status,
           reserved, used, price, estimated, created_at, hold_parts, output_tokens)
         SELECT 'txn_big_' || n, $1, users.ref, 'ann', 'free', 'unit', 'completed', $2::bigint, $2::bigint, '{}',
           FALSE, $3::bigint + (1 + n % 2) * $4::bigint, '[]', $2
         FROM generate_series(1, 1100) AS n, users WHERE users.user_id = 'ann'`,
        [projectId, big, week, DAY_MS],
      )
      const range = {
        from: new Date(week).toISOString(),
        to: new Date(week + WEEK_MS).toISOString(),
      }
      const expected = BigInt(big) * 1100n
      for (let i = 0; i < 2; i++) {
        const byUser = await ledger.getUsage(projectId, { ...range, group_by: ['user'] })
        expect(byUser.data.map(({ user_id, calls }) => [user_id, calls])).toEqual([['ann', 1100]])
        expect(byUser.totals.credits_charged).toBe(Number(expected / 1_000_000n))
        expect(byUser.totals.tokens.output).toBe(Number(expected))
      }
      const marks = await client.query(
        'SELECT (SELECT COUNT(*) FROM usage_days) AS days, (SELECT COUNT(*) FROM usage_user_weeks) AS weeks',
      )
      expect(marks.rows[0]).toEqual({ days: '7', weeks: '0' })
    } finally {
      await client.end()
      await store.close()
      await dropSchema(schema)
    }
  })
})
