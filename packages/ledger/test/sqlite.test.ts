import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createSqliteStore } from '../src/index.ts'
import { runStoreContract } from '../src/testing/index.ts'

/**
 * Every contract suite on a real SQLite file (WAL, FULL sync) in a fresh folder per test.
 * CREDLY_PROPERTY_RUNS=1000 searches harder for a sequence that breaks an invariant.
 */
runStoreContract(
  async () => {
    const folder = mkdtempSync(join(tmpdir(), 'credly-sqlite-'))
    return {
      store: createSqliteStore({ path: join(folder, 'ledger.db') }),
      cleanup: async () => rmSync(folder, { recursive: true, force: true }),
    }
  },
  { propertyRuns: Number(process.env.CREDLY_PROPERTY_RUNS ?? 40) },
)
