/**
 * The server's memory under sustained load and bursts: `credly serve` on a SQLite file in its own
 * process, driven by a load generator in another (load.ts), metered calls (start + complete) over
 * 1000 users. The server is the built CLI (`bin/credly.js`, as `npx credly` runs it), not the
 * TypeScript sources, whose type stripper alone holds tens of MB: `pnpm bench:memory` builds first. Reports the server's RSS after each phase, its peak, and the JavaScript heap after
 * a full garbage collection (what the process really keeps), with and without a V8 heap cap.
 * Linux only (reads /proc).
 *
 *   node --conditions=@credly/source packages/server/bench/memory-bench.ts [--quick]
 *     [--calls N] [--users N]    the sustained phase (default 50,000 calls over 1,000 users)
 */
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { createLedger, createSqliteStore } from '@credly/ledger'
import { createProjectWithKeys } from '../src/project-with-keys.ts'
import { startServerProcess } from './server-process.ts'

const quick = process.argv.includes('--quick')
const option = (name: string, fallback: number) => {
  const at = process.argv.indexOf(`--${name}`)
  return at < 0 ? fallback : Number(process.argv[at + 1])
}
const calls = option('calls', quick ? 5_000 : 50_000)
const users = option('users', 1000)
const burstCalls = Math.max(8000, calls / 5)
const here = (name: string) => new URL(name, import.meta.url).pathname
const cli = here('../bin/credly.js')
const config = {
  models: { 'gpt-4o': { input: 2.5, output: 10 } },
  tiers: { free: { credits: 1_000_000 } },
}

const mb = (bytes: number) => Math.round(bytes / 1048576)
const status = (pid: number, field: 'VmRSS' | 'VmHWM') =>
  Math.round(
    Number(
      new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1],
    ) / 1024,
  )

async function scenario(name: string, nodeFlags: string[]) {
  const folder = mkdtempSync(join(tmpdir(), 'credly-memory-'))
  const database = join(folder, 'credly.db')
  const store = createSqliteStore({ path: database })
  const ledger = createLedger({ store })
  const project = await createProjectWithKeys(ledger, config)
  for (let index = 0; index < users; index++)
    await ledger.createUser(project.project_id, { user_id: `user-${index}` })
  await store.close()

  const server = await startServerProcess([
    ...nodeFlags,
    '--expose-gc',
    '--require',
    here('./memory-reporter.cjs'),
    cli,
    'serve',
    '--database',
    database,
    '--port',
    '0',
  ])
  const { url } = server
  const pid = server.child.pid as number
  const rss: Record<string, number> = { idle: status(pid, 'VmRSS') }
  const load = async (count: number, concurrency: number) => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        '--conditions=@credly/source',
        here('./load.ts'),
        url,
        project.metering_key,
        String(count),
        String(concurrency),
        String(users),
      ],
      { maxBuffer: 1 << 20 },
    )
    return JSON.parse(stdout) as Record<string, number>
  }
  const sustained = await load(calls, 64)
  rss.sustained = status(pid, 'VmRSS')
  const burst = await load(burstCalls, 1000)
  rss.burst = status(pid, 'VmRSS')
  await new Promise((resolve) => setTimeout(resolve, 2000))
  server.child.kill('SIGUSR2')
  await new Promise((resolve) => setTimeout(resolve, 1000))
  const heap = JSON.parse(
    server
      .stderr()
      .split('\n')
      .find((line) => line.startsWith('{"memory"')) ?? '{"memory":{}}',
  ).memory
  const all = [sustained, burst].flatMap((counts) => Object.entries(counts))
  const row = {
    name,
    requests: all.reduce((sum, [, count]) => sum + count, 0),
    failed: all.filter(([code]) => code !== '200').reduce((sum, [, count]) => sum + count, 0),
    idle: rss.idle,
    sustained: rss.sustained,
    burst: rss.burst,
    peak: status(pid, 'VmHWM'),
    heapAfterGc: heap.after ? mb(heap.after.heapUsed) : -1,
    // The file and its WAL, over every call made (start and complete rows, journal, indexes).
    bytesPerCall: Math.round(
      [database, `${database}-wal`]
        .filter((file) => existsSync(file))
        .reduce((sum, file) => sum + statSync(file).size, 0) /
        (calls + burstCalls),
    ),
  }
  await server.stop()
  rmSync(folder, { recursive: true, force: true })
  process.stderr.write(`  ${JSON.stringify(row)}\n`)
  return row
}

const rows = [
  await scenario('credly serve (Node defaults)', []),
  await scenario('credly serve, NODE_OPTIONS=--max-old-space-size=128', [
    '--max-old-space-size=128',
  ]),
  await scenario('credly serve, NODE_OPTIONS="--max-semi-space-size=4 --max-old-space-size=64"', [
    '--max-semi-space-size=4',
    '--max-old-space-size=64',
  ]),
]
console.log(
  `\n| server | requests | not 200 | RSS idle MB | after ${calls} calls at 64 in flight (${users} users) | after a burst of 1000 in flight | peak RSS | JS heap after full GC | database bytes a call |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|`,
)
for (const row of rows)
  console.log(
    `| ${row.name} | ${row.requests} | ${row.failed} | ${row.idle} | ${row.sustained} | ${row.burst} | ${row.peak} | ${row.heapAfterGc} | ${row.bytesPerCall} |`,
  )
