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
import { DatabaseSync, type SQLInputValue, StatementSync } from 'node:sqlite'
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

type RunOptions = {
  tier?: 'empty' | 'rate-limited'
  /** Each start with an idempotency key, as the HTTP client sends one (the server stores it). */
  keys?: boolean
  /** Called once the users exist, just before the run; what it returns, just after. */
  around?: () => () => void
}

async function ledgerRun(
  name: string,
  concurrency: number,
  users: number,
  store: Store,
  { tier = 'empty', keys = false, around }: RunOptions = {},
): Promise<Result> {
  const ledger = createLedger({ store })
  const { id } = await ledger.createProject({ config })
  for (let user = 0; user < users; user++) {
    await ledger.createUser(id, { user_id: `u${user}`, tier_id: tier })
    await ledger.grantCredits(id, { user_id: `u${user}`, credits: 1_000_000_000 })
  }
  const after = around?.()
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
  after?.()
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

type Step =
  | { kind: 'exec'; sql: string }
  | { kind: 'run' | 'all' | 'get'; sql: string; params: SQLInputValue[] }

/**
 * SQLite's share of the ledger: a run of `users` users, 64 in flight, with every statement it
 * executes recorded (node:sqlite's methods wrapped for the run's length), then the same statements
 * replayed in order, without the ledger, on a copy of the file as it was before the run (`VACUUM
 * INTO`: the same rows and sequences, so each statement does what it did). The replay is what
 * these rows cost with no JavaScript around them: a ceiling for the ledger as it writes today.
 */
async function statementsAlone(users: number): Promise<[ledger: Result, replay: Result]> {
  const path = join(folder, `recorded-${users}.db`)
  const copy = join(folder, `replayed-${users}.db`)
  const steps: Step[] = []
  type Method = (this: StatementSync, ...params: SQLInputValue[]) => unknown
  const methods = StatementSync.prototype as unknown as Record<'run' | 'all' | 'get', Method>
  const originals = { run: methods.run, all: methods.all, get: methods.get }
  const exec = DatabaseSync.prototype.exec
  const record = () => {
    const before = new DatabaseSync(path)
    before.exec(`VACUUM INTO '${copy}'`)
    before.close()
    for (const kind of ['run', 'all', 'get'] as const)
      methods[kind] = function (...params) {
        steps.push({ kind, sql: this.sourceSQL, params })
        return originals[kind].apply(this, params)
      }
    DatabaseSync.prototype.exec = function (sql) {
      steps.push({ kind: 'exec', sql })
      exec.call(this, sql)
    }
    return () => {
      Object.assign(methods, originals)
      DatabaseSync.prototype.exec = exec
    }
  }
  const who = users === 1 ? 'one user' : `${users} users`
  const name = `ledger start+complete, 64 in flight, ${who}, its statements recorded`
  const ledger = await ledgerRun(name, 64, users, createSqliteStore({ path }), { around: record })
  const db = new DatabaseSync(copy)
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON')
  const prepared = new Map<string, StatementSync>()
  const statement = (sql: string) => {
    let found = prepared.get(sql)
    if (!found) {
      found = db.prepare(sql)
      prepared.set(sql, found)
    }
    return found
  }
  const replay = await measure(
    `the same statements replayed without the ledger, ${who} (SQLite alone)`,
    operations,
    async () => {
      for (const step of steps)
        if (step.kind === 'exec') db.exec(step.sql)
        else statement(step.sql)[step.kind](...step.params)
    },
  )
  db.close()
  return [ledger, replay]
}

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
const sqliteRows = [
  await baseline(),
  await ledgerRun('ledger start+complete, 1 in flight', 1, 1, sqlite('one')),
  await ledgerRun('ledger start+complete, 64 in flight, one user', 64, 1, sqlite('hot')),
  await ledgerRun('ledger start+complete, 64 in flight, 64 users', 64, 64, sqlite('many')),
  await ledgerRun(
    'ledger start+complete, 64 in flight, 64 users, a rate-limited tier',
    64,
    64,
    sqlite('limited'),
    { tier: 'rate-limited' },
  ),
  await ledgerRun(
    'ledger start+complete, 64 in flight, 64 users, a key per start (as the HTTP client sends)',
    64,
    64,
    sqlite('keyed'),
    { keys: true },
  ),
]
const alone = [await statementsAlone(64), await statementsAlone(1)]
table([...sqliteRows, ...alone.flat()])
for (const [ledger, replay] of alone)
  console.log(
    `\n${ledger.name}: ${(ledger.opsPerSecond / replay.opsPerSecond).toFixed(2)}x the speed of its statements replayed alone.`,
  )
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
      { tier: 'rate-limited' },
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
