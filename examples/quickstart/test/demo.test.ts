import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { expect, it } from 'vitest'

/** The README's main job: the demo runs to the end and the ledger it leaves verifies clean. */
it('runs the quickstart demo against a real SQLite ledger', async () => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--conditions=@credly/source', new URL('../src/main.ts', import.meta.url).pathname],
    { timeout: 60_000 },
  )
  expect(stdout).toContain('charged 6.75 credits')
  expect(stdout).toContain('continue=false (insufficient_credits)')
  expect(stdout).toContain('balance: 592.925 credits (0 held)')
  expect(stdout).toMatch(/verify: ok; 10 journal entries; granted 600 = /)
}, 60_000)
