/**
 * Ledger throughput against a baseline measured in the same process: a bare SQLite UPDATE of
 * one balance row per committed transaction, on the same kind of file (WAL, synchronous FULL).
 * Results are ratios to the baseline, so they compare across machines.
 *
 *   pnpm bench            # prints a Markdown table
 *   pnpm bench --quick    # fewer operations, for a smoke run
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { createLedger, createSqliteStore } from '../src/index.ts'
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

async function ledgerRun(name: string, concurrency: number, users: number): Promise<Result> {
  const store = createSqliteStore({ path: join(folder, `${name.replace(/\W+/g, '-')}.db`) })
  const ledger = createLedger({ store })
  const { id } = await ledger.createProject({ config: testConfig })
  for (let user = 0; user < users; user++) {
    await ledger.createUser(id, { user_id: `u${user}`, tier_id: 'empty' })
    await ledger.grantCredits(id, { user_id: `u${user}`, credits: 1_000_000_000 })
  }
  let next = 0
  const worker = async () => {
    while (next < operations) {
      const index = next++
      const start = await ledger.startUsage(id, {
        user_id: `u${index % users}`,
        model: 'unit',
        provisional_tokens: { output_tokens: 10 },
      })
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

process.stderr.write(
  `${operations} operations each (an operation is one start and one complete for the ledger)\n`,
)
const base = await baseline()
const results = [
  base,
  await ledgerRun('ledger start+complete, 1 in flight', 1, 1),
  await ledgerRun('ledger start+complete, 64 in flight, one user', 64, 1),
  await ledgerRun('ledger start+complete, 64 in flight, 64 users', 64, 64),
]
rmSync(folder, { recursive: true, force: true })

console.log('| scenario | ops/s | ratio to baseline |')
console.log('|---|---:|---:|')
for (const result of results) {
  console.log(
    `| ${result.name} | ${Math.round(result.opsPerSecond)} | ${(result.opsPerSecond / base.opsPerSecond).toFixed(2)} |`,
  )
}
