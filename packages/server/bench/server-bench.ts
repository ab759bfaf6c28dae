/**
 * `credly serve` over HTTP against a baseline measured in the same run: a bare Hono echo of the
 * same two routes on the same HTTP stack (echo-server.ts). Each server and the load generator
 * (autocannon, http-load.ts) run in processes of their own on 127.0.0.1, so the figures are the
 * server's, not the load generator's. A metered call is a start and then its complete, two
 * requests. Scenarios, each for a fixed time: 64 users and one hot user as fast as the server
 * answers (32 connections), then a fixed 1,000 requests/s for the latency: starts sent evenly
 * spaced (paced-load.ts), a start's p50 and p99 counted from when it was due; then 64 users on a
 * tier with a rate limit (each start counts the user's window). The fixed rate also runs
 * against the echo committing one bare `UPDATE` a request on each database (the latency goals'
 * floor: the database's own tail). On a SQLite file
 * (durable, the default `synchronous`) and on PostgreSQL (a new database; then 64 users at 8 and
 * at 64 connections, and two instances on it, the users split between them), with `verify()`
 * clean after each.
 *
 *   node --conditions=@credly/source packages/server/bench/server-bench.ts [--quick]
 */
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { createLedger, createStore } from '@credly/ledger'
import pg from 'pg'
import { createProjectWithKeys } from '../src/project-with-keys.ts'
import type { LoadOptions, LoadResult } from './http-load.ts'
import type { PacedLoadOptions } from './paced-load.ts'
import { startServerProcess } from './server-process.ts'

const quick = process.argv.includes('--quick')
const seconds = quick ? 3 : 10
const connections = 32
const here = (name: string) => new URL(name, import.meta.url).pathname
const postgresUrl =
  process.env.CREDLY_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const config = {
  models: { 'gpt-4o': { input: 2.5, output: 10 } },
  tiers: {
    free: { credits: 1_000_000_000 },
    // A rate limit no run reaches: each start still counts the user's window.
    limited: {
      credits: 1_000_000_000,
      rate_limit: { credits: 1_000_000_000, per: 'minute' as const },
    },
  },
}
const manyUsers = Array.from({ length: 64 }, (_, index) => `user-${index}`)
const limitedUsers = manyUsers.map((user) => `limited-${user}`)
/** The fixed-rate scenario, the latency goals' measure. */
const paced = "64 users at 1,000 requests/s, a start's latency"

/** A server process from the TypeScript sources. */
const startProcess = (args: string[]) =>
  startServerProcess(['--conditions=@credly/source', ...args])

/** As fast as the server answers (http-load.ts), or at a fixed `rate` (paced-load.ts). */
async function load(
  options: Omit<LoadOptions, 'connections' | 'seconds'> & {
    connections?: number
    rate?: PacedLoadOptions['rate']
  },
): Promise<LoadResult> {
  const script = options.rate === undefined ? './http-load.ts' : './paced-load.ts'
  const { stdout } = await promisify(execFile)(
    process.execPath,
    // From the sources, as this process: the load makes its keys with the client's own function.
    [
      '--conditions=@credly/source',
      here(script),
      JSON.stringify({ connections, seconds, ...options }),
    ],
    { maxBuffer: 1 << 20 },
  )
  const result = JSON.parse(stdout) as LoadResult
  if (result.non2xx + result.errors > 0)
    throw new Error(`the load saw ${result.non2xx} non-2xx answers and ${result.errors} errors`)
  return result
}

/** `scenario` names the echo's row it is compared with. */
type Row = { name: string; scenario: string; result: LoadResult }

/** The latency a row reports: a start's where the load measured it (the fixed rate), else all. */
const shown = (result: LoadResult) => result.startLatencyMs ?? result.latencyMs

/** A finished scenario, on stderr while the bench runs. */
const progress = (name: string, result: LoadResult) =>
  process.stderr.write(
    `  ${name}: ${Math.round(result.requestsPerSecond)} requests/s, p50 ${shown(result).p50} ms, p99 ${shown(result).p99} ms\n`,
  )

/** One scenario against one server. */
async function scenario(
  label: string,
  name: string,
  options: Parameters<typeof load>[0],
): Promise<Row> {
  const result = await load(options)
  progress(`${label}, ${name}`, result)
  return { name: `${label}, ${name}`, scenario: name, result }
}

/** The three scenarios against one server. */
async function scenarios(label: string, url: string, key: string): Promise<Row[]> {
  const rows: Row[] = []
  for (const [name, options] of [
    ['64 users', { users: manyUsers }],
    ['one hot user', { users: ['user-0'] }],
    [paced, { users: manyUsers, rate: 1000 }],
  ] as const)
    rows.push(await scenario(label, name, { url, key, ...options }))
  return rows
}

/**
 * Two instances on one database, the users split between them, each driven by a load process of
 * its own with half the connections: their requests/s added up, the worse p50 and p99.
 */
async function twoInstances(label: string, urls: [string, string], key: string): Promise<Row> {
  const halves = urls.map((url, half) =>
    load({
      url,
      key,
      users: manyUsers.filter((_, index) => index % 2 === half),
      connections: connections / 2,
    }),
  )
  const [a, b] = (await Promise.all(halves)) as [LoadResult, LoadResult]
  const result: LoadResult = {
    requestsPerSecond: a.requestsPerSecond + b.requestsPerSecond,
    requests: a.requests + b.requests,
    non2xx: a.non2xx + b.non2xx,
    errors: a.errors + b.errors,
    latencyMs: {
      p50: Math.max(a.latencyMs.p50, b.latencyMs.p50),
      p99: Math.max(a.latencyMs.p99, b.latencyMs.p99),
    },
  }
  const name = `${label}, two instances, 64 users`
  progress(name, result)
  return { name, scenario: '64 users', result }
}

/**
 * A project with its users in `database`, served by `credly serve` for the scenarios; with
 * `postgres`, then by two instances at once, and by one at 8 and at 64 connections (issue 12: the
 * latter within 20% of the former).
 */
async function credlyServe(label: string, database: string, postgres = false): Promise<Row[]> {
  const store = createStore(database)
  const ledger = createLedger({ store })
  const project = await createProjectWithKeys(ledger, config)
  for (const user of manyUsers) await ledger.createUser(project.project_id, { user_id: user })
  for (const user of limitedUsers)
    await ledger.createUser(project.project_id, { user_id: user, tier_id: 'limited' })
  await store.close()
  const serveArgs = [here('../src/cli/run.ts'), 'serve', '--database', database, '--port', '0']
  const server = await startProcess(serveArgs)
  let rows: Row[]
  try {
    rows = await scenarios(label, server.url, project.metering_key)
    // Compared with the echo's 64 users, and with the same users without a limit (printed below).
    const limited = await scenario(label, '64 users on a rate-limited tier', {
      url: server.url,
      key: project.metering_key,
      users: limitedUsers,
    })
    rows.push({ ...limited, scenario: '64 users' })
    if (postgres) {
      for (const count of [8, 64])
        rows.push(
          await scenario(label, `64 users, ${count} connections`, {
            url: server.url,
            key: project.metering_key,
            users: manyUsers,
            connections: count,
          }),
        )
      const other = await startProcess(serveArgs)
      try {
        rows.push(await twoInstances(label, [server.url, other.url], project.metering_key))
      } finally {
        await other.stop()
      }
    }
  } finally {
    await server.stop()
  }
  const check = createStore(database)
  const report = await createLedger({ store: check }).verify(project.project_id)
  await check.close()
  if (!report.ok)
    throw new Error(`verify() after the ${label} bench: ${JSON.stringify(report.differences)}`)
  return rows
}

/** The server whose latency is the latency goals' floor, on `database`. */
const floorServer = (database: 'sqlite' | 'postgres') =>
  `the echo with one ${database === 'sqlite' ? 'durable SQLite' : 'PostgreSQL'} UPDATE a request`

/**
 * The fixed-rate scenario against the echo that commits one bare `UPDATE` a request first
 * (echo-server.ts with `database`): the floor of the latency goals, the database's own tail.
 */
async function floor(database: 'sqlite' | 'postgres', where: string): Promise<Row> {
  const server = await startProcess([here('./echo-server.ts'), database, where])
  try {
    return await scenario(`floor: ${floorServer(database)}`, paced, {
      url: server.url,
      key: 'none',
      users: manyUsers,
      rate: 1000,
    })
  } finally {
    await server.stop()
  }
}

const echo = await startProcess([here('./echo-server.ts')])
const rows: Row[] = []
try {
  rows.push(...(await scenarios('bare Hono echo', echo.url, 'none')))
} finally {
  await echo.stop()
}

const folder = mkdtempSync(join(tmpdir(), 'credly-server-bench-'))
try {
  rows.push(await floor('sqlite', join(folder, 'floor.db')))
  rows.push(...(await credlyServe('credly serve on a SQLite file', join(folder, 'credly.db'))))
} finally {
  rmSync(folder, { recursive: true, force: true })
}

/**
 * The database's own speed in the same run, the baselines: autocommitted single-row
 * `UPDATE`s for `seconds`, from `clients` connections, of one hot row or spread over 64 rows.
 */
async function bareUpdates(url: string, clients: number, hot: boolean): Promise<number> {
  const pool = new pg.Pool({ connectionString: url, max: clients })
  await pool.query(
    'CREATE TABLE IF NOT EXISTS bench_balances (id INTEGER PRIMARY KEY, available BIGINT NOT NULL)',
  )
  await pool.query(
    'INSERT INTO bench_balances SELECT id, 1000000000000 FROM generate_series(0, 63) AS id ON CONFLICT DO NOTHING',
  )
  let commits = 0
  const until = performance.now() + seconds * 1000
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      for (let index = client; performance.now() < until; index += clients) {
        await pool.query(
          'UPDATE bench_balances SET available = available - 1 WHERE id = $1 AND available >= 1',
          [hot ? 0 : index % 64],
        )
        commits++
      }
    }),
  )
  await pool.end()
  const perSecond = commits / seconds
  process.stderr.write(
    `  bare PostgreSQL UPDATE, ${hot ? 'one hot row, ' : '64 rows, '}${clients} connections: ${Math.round(perSecond)} commits/s\n`,
  )
  return perSecond
}

const admin = new pg.Client({ connectionString: postgresUrl })
let bare: { spread: number; hot: number } | undefined
const database = `credly_bench_${randomBytes(4).toString('hex')}`
try {
  await admin.connect()
  await admin.query(`CREATE DATABASE ${database}`)
  const url = new URL(postgresUrl)
  url.pathname = `/${database}`
  bare = {
    spread: await bareUpdates(url.toString(), connections, false),
    hot: await bareUpdates(url.toString(), 8, true),
  }
  rows.push(await floor('postgres', url.toString()))
  rows.push(...(await credlyServe('credly serve on PostgreSQL', url.toString(), true)))
} catch (error) {
  if (!(error as { code?: string }).code?.startsWith('ECONN')) throw error
  process.stderr.write(`  (PostgreSQL at ${postgresUrl} is not reachable; skipped)\n`)
} finally {
  await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => undefined)
  await admin.end().catch(() => undefined)
}

const baseline = (scenario: string) =>
  rows.find((row) => row.name === `bare Hono echo, ${scenario}`)?.result
const oneInstance = rows.find((row) => row.name === 'credly serve on PostgreSQL, 64 users')
const bothInstances = rows.find((row) => row.name.endsWith('two instances, 64 users'))
console.log(`\n### Server over HTTP (${connections} connections, ${seconds} s a scenario)\n`)
console.log(
  '| scenario | requests/s | ratio to the echo | p50 ms | p99 ms | p99 ratio to the echo |',
)
console.log('|---|---:|---:|---:|---:|---:|')
for (const { name, scenario, result } of rows) {
  const base = baseline(scenario)
  // The connection counts have no echo of their own: compared with each other below.
  const ratio = (value: (result: LoadResult) => number) =>
    base ? (value(result) / Math.max(0.1, value(base))).toFixed(2) : '-'
  console.log(
    `| ${name} | ${Math.round(result.requestsPerSecond)} | ${ratio((r) => r.requestsPerSecond)} | ${shown(result).p50} | ${shown(result).p99} | ${ratio((r) => shown(r).p99)} |`,
  )
}
for (const label of ['credly serve on a SQLite file', 'credly serve on PostgreSQL']) {
  const [plain, limited] = ['64 users', '64 users on a rate-limited tier'].map((name) =>
    rows.find((row) => row.name === `${label}, ${name}`),
  )
  if (plain && limited)
    console.log(
      `\n${label}, 64 users on a rate-limited tier: ${(limited.result.requestsPerSecond / plain.result.requestsPerSecond).toFixed(2)}x the same without a limit.`,
    )
}
const hotUser = rows.find((row) => row.name === 'credly serve on PostgreSQL, one hot user')
if (bare && oneInstance && hotUser) {
  const pairs = (row: Row) => row.result.requestsPerSecond / 2
  console.log(
    `\nPostgreSQL, metered calls (start + complete) a second against the database's own speed in this run: 64 users ${Math.round(pairs(oneInstance))}, ${(pairs(oneInstance) / bare.spread).toFixed(2)}x a bare UPDATE spread over 64 rows from ${connections} connections (${Math.round(bare.spread)} commits/s); one hot user ${Math.round(pairs(hotUser))}, ${(pairs(hotUser) / bare.hot).toFixed(2)}x a bare UPDATE of one hot row from 8 connections (${Math.round(bare.hot)} commits/s).`,
  )
}
const [eight, sixtyFour] = [8, 64].map((count) =>
  rows.find((row) => row.name === `credly serve on PostgreSQL, 64 users, ${count} connections`),
)
if (eight && sixtyFour)
  console.log(
    `\nPostgreSQL, 64 users at 64 connections: ${(sixtyFour.result.requestsPerSecond / eight.result.requestsPerSecond).toFixed(2)}x the same at 8 connections (p50 ${sixtyFour.result.latencyMs.p50} ms against ${eight.result.latencyMs.p50} ms).`,
  )
for (const [database, label] of [
  ['sqlite', 'credly serve on a SQLite file'],
  ['postgres', 'credly serve on PostgreSQL'],
] as const) {
  const [bareFloor, ours] = [`floor: ${floorServer(database)}`, label].map(
    (name) => rows.find((row) => row.name === `${name}, ${paced}`)?.result,
  )
  const echoAlone = baseline(paced)
  if (bareFloor && ours && echoAlone)
    console.log(
      `\n${label}, at 1,000 requests/s, a start's p99: ${shown(ours).p99} ms, ${(shown(ours).p99 / Math.max(0.01, shown(bareFloor).p99)).toFixed(2)}x the ${shown(bareFloor).p99} ms of ${floorServer(database)} (the echo alone: ${shown(echoAlone).p99} ms).`,
    )
}
if (oneInstance && bothInstances)
  console.log(
    `\nTwo instances on one PostgreSQL: ${(bothInstances.result.requestsPerSecond / oneInstance.result.requestsPerSecond).toFixed(2)}x one instance.`,
  )
