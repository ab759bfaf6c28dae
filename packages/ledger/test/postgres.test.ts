import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { DAY_MS, WEEK_MS, weekStart } from '../src/calendar.ts'
import { createTestClock } from '../src/clock.ts'
import { createLedger, createPostgresStore, type Ledger, type Store } from '../src/index.ts'
import { runStoreContract, testConfig } from '../src/testing/index.ts'
import {
  dropSchema,
  newSchemaName,
  postgresAvailable,
  postgresFactory,
  postgresUrl,
} from '../src/testing/postgres.ts'

/**
 * Runs `test` on a ledger with a project in a fresh schema, beside a raw connection to the same
 * schema (to write rows directly and read what PostgreSQL reports); drops the schema after.
 */
async function inSchema(
  test: (context: {
    schema: string
    store: Store
    ledger: Ledger
    projectId: string
    client: pg.Client
  }) => Promise<void>,
): Promise<void> {
  const schema = newSchemaName()
  const store = createPostgresStore({ url: postgresUrl, schema })
  const client = new pg.Client({
    connectionString: postgresUrl,
    options: `-c search_path=${schema}`,
  })
  try {
    const ledger = createLedger({ store })
    const { id: projectId } = await ledger.createProject({ config: testConfig })
    await client.connect()
    await test({ schema, store, ledger, projectId, client })
  } finally {
    await client.end()
    await store.close()
    await dropSchema(schema)
  }
}

/**
 * PostgreSQL's own counters of the reads through each index of `table` (`idx_scan` lookups,
 * `idx_tup_read` entries), by index name. A connection reports them as it closes: close the store
 * first; this waits until `reported` shows a lookup.
 */
async function indexStats(
  client: pg.Client,
  schema: string,
  table: string,
  reported: string,
): Promise<Map<string, { idx_scan: string; idx_tup_read: string }>> {
  const read = async () =>
    new Map(
      (
        await client.query(
          `SELECT indexrelname, idx_scan, idx_tup_read FROM pg_stat_user_indexes
           WHERE schemaname = $1 AND relname = $2`,
          [schema, table],
        )
      ).rows.map((row) => [row.indexrelname as string, row]),
    )
  const pause = () => new Promise((resolve) => setTimeout(resolve, 100))
  let stats = await read()
  for (let wait = 0; wait < 50 && !(Number(stats.get(reported)?.idx_scan) > 0); wait++) {
    await pause()
    stats = await read()
  }
  // Connections closing report one after another: wait until the counts stop moving.
  for (let wait = 0; wait < 30; wait++) {
    await pause()
    const again = await read()
    const same = [...again].every(([name, row]) => stats.get(name)?.idx_scan === row.idx_scan)
    stats = again
    if (same) break
  }
  return stats
}

/** Every contract suite on the real PostgreSQL of this machine, in a fresh schema per test. */
const available = await postgresAvailable()
describe.runIf(available)('PostgreSQL store', () => {
  runStoreContract(postgresFactory, {
    propertyRuns: Number(process.env.CREDLY_PROPERTY_RUNS ?? 25),
  })

  it('adds up a report by user exactly over a week whose sums pass 64-bit integers', () =>
    // Per-user week totals are BIGINT; a week past them (1,100 calls of 2^53 - 1 micro-credits,
    // written directly: no ledger call charges that much) stays read call by call, in NUMERIC.
    inSchema(async ({ ledger, projectId, client }) => {
      await ledger.createUser(projectId, { user_id: 'ann' })
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
    }))

  it("completes read each call's transaction by its id, not the project's whole history", () =>
    // 20,000 earlier calls, written directly and not yet analyzed (a table growing faster than
    // autovacuum analyzes it), stand for a long history. A complete reads its transaction with
    // its user's lock; the index entries PostgreSQL reads through the indexes led by project_id
    // must not grow with the history. Reading by (project_id, id) pairs, it took the project's
    // condition to an index and walked all 20,000, in every batch.
    inSchema(async ({ schema, store, ledger, projectId, client }) => {
      const users = Array.from({ length: 64 }, (_, index) => `u${index}`)
      for (const user of users) await ledger.createUser(projectId, { user_id: user })
      await client.query(
        `INSERT INTO transactions (id, project_id, user_ref, user_id, tier_id, model, status,
           reserved, used, price, estimated, created_at, hold_parts)
         SELECT 'txn_old_' || n, $1, users.ref, users.user_id, 'free', 'unit', 'completed', 0, 0,
           '{}', FALSE, $2::bigint - n, '[]'
         FROM generate_series(1, 20000) AS n, users WHERE users.user_id = 'u0'`,
        [projectId, Date.now()],
      )
      const starts = await Promise.all(
        users.map((user) =>
          ledger.startUsage(projectId, {
            user_id: user,
            model: 'unit',
            provisional_tokens: { input_tokens: 1 },
          }),
        ),
      )
      await Promise.all(
        starts.map((start) =>
          ledger.completeUsage(projectId, {
            transaction_id: start.transaction_id as string,
            success: true,
            finalized_tokens: { input_tokens: 1 },
          }),
        ),
      )
      await store.close()
      const stats = await indexStats(client, schema, 'transactions', 'transactions_pkey')
      expect(Number(stats.get('transactions_pkey')?.idx_scan)).toBeGreaterThan(0)
      const viaProject = ['transactions_project', 'transactions_user'].reduce(
        (sum, index) => sum + Number(stats.get(index)?.idx_tup_read ?? 0),
        0,
      )
      expect(viaProject).toBeLessThan(1000)
    }))

  describe('rows kept from one transaction to the next', () => {
    const call = (ledger: Ledger, projectId: string, tokens: number) =>
      ledger.startUsage(projectId, {
        user_id: 'ann',
        model: 'unit',
        provisional_tokens: { input_tokens: tokens },
      })
    const settle = (ledger: Ledger, projectId: string, transactionId: string, tokens: number) =>
      ledger.completeUsage(projectId, {
        transaction_id: transactionId,
        success: true,
        finalized_tokens: { input_tokens: tokens },
      })

    it('two instances taking turns on one user: each sees what the other wrote', () =>
      // Each instance keeps the user's rows from its last call; the other's call changed them
      // since, so each call finds its kept rows changed, and reads them again. Kept rows used as
      // they were would charge the user from a stale balance: the total would be wrong, and the
      // last call would be allowed.
      inSchema(async ({ schema, ledger, projectId }) => {
        const other = createPostgresStore({ url: postgresUrl, schema })
        try {
          const ledgers = [ledger, createLedger({ store: other })]
          await ledger.createUser(projectId, { user_id: 'ann' })
          for (let turn = 0; turn < 10; turn++) {
            const instance = ledgers[turn % 2] as Ledger
            const start = await call(instance, projectId, 10)
            expect(start.continue).toBe(true)
            await settle(instance, projectId, start.transaction_id as string, 9)
          }
          for (const instance of ledgers) {
            expect((await instance.getBalance(projectId, 'ann')).balance).toBe(10)
            // Ten credits left: a call for eleven is refused on both.
            expect((await call(instance, projectId, 11)).continue).toBe(false)
          }
          expect((await ledger.verify(projectId)).ok).toBe(true)
        } finally {
          await other.close()
        }
      }))

    it('a rate-limit window kept by one instance counts the calls another made', () =>
      // Each instance keeps ann's spend in this minute from its last call; it is used as long as
      // ann's row is as kept. A sum kept stale would let a call through past the tier's 50
      // credits a minute.
      inSchema(async ({ schema, store, projectId }) => {
        const other = createPostgresStore({ url: postgresUrl, schema })
        try {
          const clock = createTestClock('2026-01-31T12:00:10.000Z')
          const ledgers = [createLedger({ store, clock }), createLedger({ store: other, clock })]
          const [first, second] = ledgers as [Ledger, Ledger]
          await first.createUser(projectId, { user_id: 'ann', tier_id: 'limited' })
          expect((await call(first, projectId, 20)).continue).toBe(true)
          expect((await call(second, projectId, 20)).continue).toBe(true)
          for (const instance of ledgers)
            expect((await call(instance, projectId, 20)).reason).toBe('rate_limited')
          expect((await call(first, projectId, 10)).continue).toBe(true)
          expect((await call(second, projectId, 1)).reason).toBe('rate_limited')
          expect((await first.verify(projectId)).ok).toBe(true)
        } finally {
          await other.close()
        }
      }))

    it("a known user's calls read nothing to lock them: their kept rows are checked by version", () =>
      // Locking and reading a user goes through users_live (project and user id); checking kept
      // rows through the primary key. 20 calls are 40 write transactions: read each time, the
      // user would be looked up through users_live 40 times.
      inSchema(async ({ schema, store, ledger, projectId, client }) => {
        await ledger.createUser(projectId, { user_id: 'ann' })
        for (let index = 0; index < 20; index++) {
          const start = await call(ledger, projectId, 1)
          await settle(ledger, projectId, start.transaction_id as string, 1)
        }
        expect((await ledger.getBalance(projectId, 'ann')).balance).toBe(80)
        await store.close()
        const stats = await indexStats(client, schema, 'users', 'users_pkey')
        expect(Number(stats.get('users_pkey')?.idx_scan)).toBeGreaterThanOrEqual(38)
        // Read each batch: 82 here; kept: the first lock and the reads outside write transactions.
        expect(Number(stats.get('users_live')?.idx_scan ?? 0)).toBeLessThan(10)
      }))

    it('keyed starts do not look their keys up first: a key used before is caught by its insert', () =>
      inSchema(async ({ schema, store, ledger, projectId, client }) => {
        await ledger.createUser(projectId, { user_id: 'ann' })
        const keyed = (index: number) =>
          ledger.startUsage(
            projectId,
            { user_id: 'ann', model: 'unit', provisional_tokens: { input_tokens: 1 } },
            { idempotencyKey: `start-${index}` },
          )
        for (let index = 0; index < 20; index++) {
          const start = await keyed(index)
          await settle(ledger, projectId, start.transaction_id as string, 1)
        }
        // A retried start: the insert of its key fails, the batch runs again reading keys, and the
        // first answer comes back; nothing is reserved twice.
        const first = await keyed(20)
        expect((await keyed(20)).transaction_id).toBe(first.transaction_id)
        expect((await ledger.getBalance(projectId, 'ann')).balance).toBe(79)
        await store.close()
        const stats = await indexStats(client, schema, 'idempotency', 'idempotency_pkey')
        // Looked up first: 22 lookups here; taken as new: the retried start's one.
        expect(Number(stats.get('idempotency_pkey')?.idx_scan ?? 0)).toBeLessThan(10)
      }))

    it("a user written through two instances stops only that user's rows being kept", () =>
      // ann is written through both instances, bob through this one only. When this instance finds
      // ann's kept rows changed, it stops keeping ann's for a while, not bob's: bob's 20 calls (40
      // write transactions) still use his kept rows. Pausing every user would read bob through
      // users_live in each of them.
      inSchema(async ({ schema, store, ledger, projectId, client }) => {
        const other = createLedger({ store: createPostgresStore({ url: postgresUrl, schema }) })
        const callFor = async (instance: Ledger, user: string, tokens: number) => {
          const start = await instance.startUsage(projectId, {
            user_id: user,
            model: 'unit',
            provisional_tokens: { input_tokens: tokens },
          })
          expect(start.continue).toBe(true)
          await settle(instance, projectId, start.transaction_id as string, tokens)
        }
        try {
          await ledger.createUser(projectId, { user_id: 'ann' })
          await ledger.createUser(projectId, { user_id: 'bob' })
          await callFor(ledger, 'ann', 1)
          await callFor(ledger, 'bob', 1)
          await callFor(other, 'ann', 1)
          // ann's kept rows are found changed: the batch runs again, reading them.
          await callFor(ledger, 'ann', 1)
          for (let index = 0; index < 20; index++) await callFor(ledger, 'bob', 1)
          expect((await ledger.getBalance(projectId, 'ann')).balance).toBe(97)
          expect((await other.getBalance(projectId, 'ann')).balance).toBe(97)
          expect((await ledger.getBalance(projectId, 'bob')).balance).toBe(79)
          expect((await ledger.verify(projectId)).ok).toBe(true)
        } finally {
          await other.store.close()
        }
        await store.close()
        const stats = await indexStats(client, schema, 'users', 'users_pkey')
        // Every user paused: 92 lookups here; ann alone: 17 (each lock reads users and buckets
        // through it; six locks, and the balance reads).
        expect(Number(stats.get('users_live')?.idx_scan ?? 0)).toBeLessThan(35)
      }))

    it('a balance changed behind the instance (by SQL) is seen on its next call', () =>
      inSchema(async ({ ledger, projectId, client }) => {
        await ledger.createUser(projectId, { user_id: 'ann' })
        // The instance now keeps ann's rows: 100 credits.
        const first = await call(ledger, projectId, 1)
        await settle(ledger, projectId, first.transaction_id as string, 1)
        await client.query(
          `UPDATE buckets SET remaining = 5000000 WHERE user_ref = (SELECT ref FROM users WHERE user_id = 'ann');
           UPDATE users SET available = 5000000 WHERE user_id = 'ann'`,
        )
        const refused = await call(ledger, projectId, 6)
        expect(refused.continue).toBe(false)
        expect(refused.balance).toBe(5)
        const allowed = await call(ledger, projectId, 5)
        expect(allowed.continue).toBe(true)
        expect((await ledger.getBalance(projectId, 'ann')).balance).toBe(0)
      }))
  })

  it("keeps working when a newer instance's migration adds a column to a table its prepared statements read", () =>
    inSchema(async ({ ledger, projectId, client }) => {
      /** One metered call of `user_id`; its start's answer. */
      const meter = async (user_id: string) => {
        const started = await ledger.startUsage(projectId, {
          user_id,
          model: 'gpt-4o',
          provisional_tokens: { input_tokens: 1 },
        })
        await ledger.completeUsage(projectId, {
          transaction_id: started.transaction_id as string,
          success: true,
          finalized_tokens: { input_tokens: 1 },
        })
        return started
      }
      await ledger.createUser(projectId, { user_id: 'ann' })
      // The reads and the writes prepare their statements, SELECT * among them.
      await meter('ann')
      const before = (await ledger.getBalance(projectId, 'ann')).balance
      // What a newer version's migration could do while this instance runs: PostgreSQL then
      // refuses every statement prepared before it that returns the table's rows.
      await client.query('ALTER TABLE users ADD COLUMN added_by_a_newer_instance INTEGER')
      await client.query('ALTER TABLE transactions ADD COLUMN added_by_a_newer_instance INTEGER')
      expect((await ledger.getBalance(projectId, 'ann')).balance).toBe(before)
      await ledger.createUser(projectId, { user_id: 'bob' })
      for (const user of ['ann', 'bob']) expect((await meter(user)).continue).toBe(true)
      expect((await ledger.getBalance(projectId, 'ann')).balance).toBeLessThan(before)
      expect((await ledger.verify(projectId)).ok).toBe(true)
    }))
})
