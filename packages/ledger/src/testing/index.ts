export { createTestClock, type TestClock } from '../clock.ts'
export { type LedgerHarness, openHarness, type StoreFactory, testConfig } from './harness.ts'
export {
  dropSchema,
  newSchemaName,
  postgresAvailable,
  postgresFactory,
  postgresUrl,
} from './postgres.ts'
export {
  expirySuite,
  hostileInputSuite,
  noOverspendSuite,
  propertiesSuite,
  refillsSuite,
  runStoreContract,
  smallBalancesSuite,
  twoPhaseSuite,
  usageReportSuite,
  usersAndLimitsSuite,
} from './store-contract/index.ts'
