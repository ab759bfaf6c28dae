/**
 * Usage reports over 1,000,000 transactions (and 50,000 refusals) of 10,000 users over 90 days,
 * on a SQLite file and on PostgreSQL, against a baseline in the same run: the bare aggregate
 * `SELECT COUNT(*), SUM(used)` over the same rows. The first report writes the past days' and
 * weeks' totals (timed once); the others are the second of two runs. Rows are written in bulk by SQL (a ledger
 * writing a million calls one by one would take minutes and measure nothing new).
 *
 *   node --conditions=@credly/source packages/ledger/bench/usage-report-bench.ts [--quick]
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import pg from 'pg'
import { createLedger, createPostgresStore, createSqliteStore, type Ledger } from '../src/index.ts'
import { testConfig } from '../src/testing/index.ts'
import {
  dropSchema,
  newSchemaName,
  postgresAvailable,
  postgresUrl,
} from '../src/testing/postgres.ts'

const quick = process.argv.includes('--quick')
const rows = quick ? 100_000 : 1_000_000
const DAY = 86_400_000
const start = Date.parse('2026-01-01T00:00:00.000Z')
const models = ['gpt-4o', 'o4-mini', 'unit']

/** The same rows for both stores: one SQL statement each, from a recursive series. */
const fill = (series: string, refusals: string) => [
  `INSERT INTO users (ref, project_id, user_id, tier_id, available, held, metadata, created_at,
     refill_anchor, refills_applied, next_event_at, deleted_at)
   SELECT 'usr_' || n, 'prj_bench', 'user-' || n, 'free', 0, 0, '{}', ${start}, ${start}, 0, NULL, NULL
   FROM ${series.replace('$N', '10000')}`,
  `INSERT INTO transactions (id, project_id, user_ref, user_id, tier_id, model, feature_identifier,
     status, reserved, used, provisional_tokens, finalized_tokens, price, estimated, created_at,
     completed_at, expires_at, hold_parts, complete_hash, complete_result, input_tokens,
     cached_input_tokens, cache_write_tokens, output_tokens, reasoning_tokens)
   SELECT 'txn_' || n, 'prj_bench', 'usr_' || (n % 10000 + 1), 'user-' || (n % 10000 + 1), 'free',
     CASE n % 3 WHEN 0 THEN '${models[0]}' WHEN 1 THEN '${models[1]}' ELSE '${models[2]}' END,
     CASE n % 2 WHEN 0 THEN 'chat' ELSE 'search' END, 'completed', 5000, 3000 + n % 1000,
     NULL, NULL, '{}', FALSE, ${start} + (n * ${Math.floor((90 * DAY) / rows)}), ${start}, NULL,
     '[]', NULL, NULL, 400, 100, 0, 250, 20
   FROM ${series.replace('$N', String(rows))}`,
  `INSERT INTO refusals (project_id, user_ref, user_id, tier_id, model, feature_identifier, reason,
     credits_required, at)
   SELECT 'prj_bench', 'usr_' || (n % 10000 + 1), 'user-' || (n % 10000 + 1), 'free', 'gpt-4o', 'chat',
     CASE n % 4 WHEN 0 THEN 'rate_limited' ELSE 'insufficient_credits' END, 9000,
     ${start} + (n * ${Math.floor((90 * DAY) / (rows / 20))})
   FROM ${refusals.replace('$N', String(rows / 20))}`,
]

async function time(name: string, run: () => Promise<unknown>): Promise<number> {
  await run() // warm the caches: a report is usually asked for more than once
  const started = performance.now()
  await run()
  const ms = performance.now() - started
  process.stderr.write(`  ${name}: ${ms.toFixed(0)} ms\n`)
  return ms
}

async function scenarios(
  label: string,
  ledger: Ledger,
  bare: () => Promise<unknown>,
  afterFirst: () => Promise<unknown> = async () => undefined,
) {
  const range = { from: '2026-01-01T00:00:00.000Z', to: '2026-04-01T00:00:00.000Z' }
  const baseline = await time(`${label}: bare SELECT COUNT(*), SUM(used)`, bare)
  // The first report over a range writes its past days' totals, once.
  const first = performance.now()
  await ledger.getUsage('prj_bench', { ...range, group_by: ['day'] })
  const firstMs = performance.now() - first
  await afterFirst()
  process.stderr.write(
    `  ${label}: first report (writes 90 days of totals, 12 weeks by user): ${firstMs.toFixed(0)} ms\n`,
  )
  const results: Array<[string, number]> = [
    [`${label}: bare SELECT COUNT(*), SUM(used)`, baseline],
    [`${label}: first report by day, writing 90 days' and 12 weeks' totals (once)`, firstMs],
  ]
  for (const [name, query] of [
    ['report, no grouping', range],
    ['report by day', { ...range, group_by: ['day'] }],
    ['report by model and feature', { ...range, group_by: ['model', 'feature'] }],
    ['report by user (10,000 groups)', { ...range, group_by: ['user'] }],
    ['report of one user by day', { ...range, group_by: ['day'], user_id: 'user-42' }],
  ] as const) {
    results.push([
      `${label}: ${name}`,
      await time(`${label}: ${name}`, () => ledger.getUsage('prj_bench', query as never)),
    ])
  }
  return results.map(([name, ms]) => ({ name, ms, ratio: ms / baseline }))
}

const table: Array<{ name: string; ms: number; ratio: number }> = []

// SQLite
{
  const folder = mkdtempSync(join(tmpdir(), 'credly-report-bench-'))
  const path = join(folder, 'bench.db')
  const store = createSqliteStore({ path })
  const ledger = createLedger({ store })
  await ledger.createProject({ id: 'prj_bench', config: testConfig })
  await store.close()
  const db = new DatabaseSync(path)
  const series = `(WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < $N) SELECT n FROM s)`
  const started = performance.now()
  db.exec('BEGIN')
  for (const statement of fill(series, series)) db.exec(statement)
  db.exec('COMMIT')
  db.exec('ANALYZE')
  process.stderr.write(
    `SQLite: ${rows} transactions written in ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
  )
  const bare = db.prepare(
    "SELECT COUNT(*) AS calls, SUM(used) AS used FROM transactions WHERE project_id = 'prj_bench'",
  )
  const reopened = createSqliteStore({ path })
  table.push(
    ...(await scenarios('SQLite', createLedger({ store: reopened }), async () => bare.get())),
  )
  await reopened.close()
  db.close()
  rmSync(folder, { recursive: true, force: true })
}

// PostgreSQL
if (await postgresAvailable()) {
  const schema = newSchemaName()
  const store = createPostgresStore({ url: postgresUrl, schema })
  const ledger = createLedger({ store })
  await ledger.createProject({ id: 'prj_bench', config: testConfig })
  const client = new pg.Client({
    connectionString: postgresUrl,
    options: `-c search_path=${schema}`,
  })
  await client.connect()
  const series = '(SELECT generate_series(1::bigint, $N) AS n) AS s'
  const started = performance.now()
  for (const statement of fill(series, series)) await client.query(statement)
  await client.query('ANALYZE')
  process.stderr.write(
    `PostgreSQL: ${rows} transactions written in ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
  )
  table.push(
    ...(await scenarios(
      'PostgreSQL',
      ledger,
      () =>
        client.query(
          "SELECT COUNT(*) AS calls, SUM(used) AS used FROM transactions WHERE project_id = 'prj_bench'",
        ),
      // What autovacuum does within a minute of the totals' first write: without statistics the
      // planner takes the new tables for empty.
      () => client.query('ANALYZE usage_day_totals, usage_user_week_totals'),
    )),
  )
  await client.end()
  await store.close()
  await dropSchema(schema)
}

console.log(`\n### Usage reports over ${rows} transactions\n`)
console.log('| scenario | ms | ratio to the bare aggregate |\n|---|---:|---:|')
for (const row of table)
  console.log(`| ${row.name} | ${row.ms.toFixed(0)} | ${row.ratio.toFixed(2)} |`)
