/**
 * Ledger throughput against a baseline measured in the same process: a bare SQLite UPDATE of
 * one balance row per committed transaction, on the same kind of file (WAL, synchronous FULL).
 * Results are ratios to the baseline, so they compare across machines.
 *
 *   pnpm bench            # prints a Markdown table
 *   pnpm bench --quick    # fewer operations, for a smoke run
 */

import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { newIdempotencyKey } from 'credly/internal'
import pg from 'pg'
import { createLedger, createPostgresStore, createSqliteStore, type Store } from '../src/index.ts'
import { testConfig } from '../src/testing/index.ts'

const quick = process.argv.includes('--quick')
const operations = quick ? 300 : 3000
const folder = mkdtempSync(join(tmpdir(), 'credly-bench-'))

type Result = { name: string; opsPerSecond: number }

async function measure(name: string, count: number, run: () => Promise<void>): Promise<Result> {
  const started = performance.now()
  await run()
  const seconds = (performance.now() - started) / 1000
  process.stderr.write(`  ${name}: ${Math.round(count / seconds)} ops/s\n`)
  return { name, opsPerSecond: count / seconds }
}

async function baseline(): Promise<Result> {
  const db = new DatabaseSync(join(folder, 'baseline.db'))
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL')
  db.exec('CREATE TABLE balances (id INTEGER PRIMARY KEY, available INTEGER NOT NULL)')
  db.exec('INSERT INTO balances VALUES (1, 1000000000000)')
  const update = db.prepare(
    'UPDATE balances SET available = available - 1 WHERE id = 1 AND available >= 1',
  )
  const result = await measure('bare SQLite UPDATE, one commit each', operations, async () => {
    for (let index = 0; index < operations; index++) {
      db.exec('BEGIN IMMEDIATE')
      update.run()
      db.exec('COMMIT')
    }
  })
  db.close()
  return result
}

async function ledgerRun(
  name: string,
  concurrency: number,
  users: number,
  store: Store,
  tier: 'empty' | 'rate-limited' = 'empty',
  /** Each start with an idempotency key, as the HTTP client sends one (the server stores it). */
  keys = false,
): Promise<Result> {
  const ledger = createLedger({ store })
  const { id } = await ledger.createProject({ config })
  for (let user = 0; user < users; user++) {
    await ledger.createUser(id, { user_id: `u${user}`, tier_id: tier })
    await ledger.grantCredits(id, { user_id: `u${user}`, credits: 1_000_000_000 })
  }
  let next = 0
  const worker = async () => {
    while (next < operations) {
      const index = next++
      const start = await ledger.startUsage(
        id,
        { user_id: `u${index % users}`, model: 'unit', provisional_tokens: { output_tokens: 10 } },
        keys ? { idempotencyKey: newIdempotencyKey() } : {},
      )
      await ledger.completeUsage(id, {
        transaction_id: start.transaction_id as string,
        success: true,
        finalized_tokens: { output_tokens: 7 },
      })
    }
  }
  const result = await measure(name, operations, () =>
    Promise.all(Array.from({ length: concurrency }, worker)).then(() => undefined),
  )
  const report = await ledger.verify(id)
  if (!report.ok) throw new Error(`verify failed after ${name}`)
  await store.close()
  return result
}

/**
 * The contract tests' config, and a tier with a rate limit no run reaches (each start still
 * counts the user's window).
 */
const config = {
  ...testConfig,
  tiers: {
    ...testConfig.tiers,
    'rate-limited': { credits: 0, rate_limit: { credits: 1_000_000_000, per: 'minute' as const } },
  },
}

const sqlite = (name: string) => createSqliteStore({ path: join(folder, `${name}.db`) })

/** The PostgreSQL baseline: one single-row UPDATE per committed transaction, from 8 connections. */
async function postgresBaseline(url: string, schema: string): Promise<Result> {
  const pool = new pg.Pool({ connectionString: url, max: 8 })
  await pool.query(`CREATE SCHEMA ${schema}`)
  await pool.query(
    `CREATE TABLE ${schema}.balances (id INTEGER PRIMARY KEY, available BIGINT NOT NULL)`,
  )
  await pool.query(`INSERT INTO ${schema}.balances VALUES (1, 1000000000000)`)
  let next = 0
  const worker = async () => {
    while (next++ < operations) {
      await pool.query(
        `UPDATE ${schema}.balances SET available = available - 1 WHERE id = 1 AND available >= 1`,
      )
    }
  }
  const result = await measure(
    'bare PostgreSQL UPDATE of one hot row, 8 connections',
    operations,
    async () => {
      await Promise.all(Array.from({ length: 8 }, worker))
    },
  )
  await pool.end()
  return result
}

function table(results: Result[]): void {
  const base = results[0] as Result
  console.log('| scenario | ops/s | ratio to baseline |')
  console.log('|---|---:|---:|')
  for (const result of results) {
    console.log(
      `| ${result.name} | ${Math.round(result.opsPerSecond)} | ${(result.opsPerSecond / base.opsPerSecond).toFixed(2)} |`,
    )
  }
}

process.stderr.write(
  `${operations} operations each (an operation is one start and one complete for the ledger)\n`,
)
console.log('### SQLite\n')
table([
  await baseline(),
  await ledgerRun('ledger start+complete, 1 in flight', 1, 1, sqlite('one')),
  await ledgerRun('ledger start+complete, 64 in flight, one user', 64, 1, sqlite('hot')),
  await ledgerRun('ledger start+complete, 64 in flight, 64 users', 64, 64, sqlite('many')),
  await ledgerRun(
    'ledger start+complete, 64 in flight, 64 users, a rate-limited tier',
    64,
    64,
    sqlite('limited'),
    'rate-limited',
  ),
  await ledgerRun(
    'ledger start+complete, 64 in flight, 64 users, a key per start (as the HTTP client sends)',
    64,
    64,
    sqlite('keyed'),
    'empty',
    true,
  ),
])
rmSync(folder, { recursive: true, force: true })

const url = process.env.CREDLY_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const schemas: string[] = []
const postgres = () => {
  const schema = `credly_bench_${randomBytes(4).toString('hex')}`
  schemas.push(schema)
  return { schema, store: createPostgresStore({ url, schema, maxConnections: 8 }) }
}
try {
  console.log('\n### PostgreSQL\n')
  table([
    await postgresBaseline(url, postgres().schema),
    await ledgerRun('ledger start+complete, 8 in flight, one user', 8, 1, postgres().store),
    await ledgerRun('ledger start+complete, 64 in flight, one user', 64, 1, postgres().store),
    await ledgerRun('ledger start+complete, 64 in flight, 64 users', 64, 64, postgres().store),
    await ledgerRun(
      'ledger start+complete, 64 in flight, 64 users, a rate-limited tier',
      64,
      64,
      postgres().store,
      'rate-limited',
    ),
  ])
} catch (error) {
  console.log(`(PostgreSQL at ${url} is not reachable: ${(error as Error).message}; skipped)`)
} finally {
  const pool = new pg.Pool({ connectionString: url, max: 1 })
  for (const schema of schemas)
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined)
  await pool.end().catch(() => undefined)
}
