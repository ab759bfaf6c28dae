import { describe } from 'vitest'
import { runStoreContract } from '../src/testing/index.ts'
import { postgresAvailable, postgresFactory } from '../src/testing/postgres.ts'

/** Every contract suite on the real PostgreSQL of this machine, in a fresh schema per test. */
const available = await postgresAvailable()
describe.runIf(available)('PostgreSQL store', () => {
  runStoreContract(postgresFactory, {
    propertyRuns: Number(process.env.CREDLY_PROPERTY_RUNS ?? 25),
  })
})
