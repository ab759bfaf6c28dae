import type { StoreFactory } from '../harness.ts'
import { batchesSuite } from './batches.ts'
import { expirySuite } from './expiry.ts'
import { hostileInputSuite } from './hostile-input.ts'
import { noOverspendSuite } from './no-overspend.ts'
import { propertiesSuite } from './properties.ts'
import { refillsSuite } from './refills.ts'
import { smallBalancesSuite } from './small-balances.ts'
import { twoPhaseSuite } from './two-phase.ts'
import { usageReportSuite } from './usage-report.ts'
import { usersAndLimitsSuite } from './users-and-limits.ts'

/** Runs every contract suite against a store. Call it from each store's test file. */
export function runStoreContract(
  factory: StoreFactory,
  options: { propertyRuns?: number } = {},
): void {
  twoPhaseSuite(factory)
  batchesSuite(factory)
  noOverspendSuite(factory)
  expirySuite(factory)
  refillsSuite(factory)
  usersAndLimitsSuite(factory)
  hostileInputSuite(factory)
  usageReportSuite(factory)
  smallBalancesSuite(factory)
  propertiesSuite(factory, { runs: options.propertyRuns })
}

export {
  batchesSuite,
  expirySuite,
  hostileInputSuite,
  noOverspendSuite,
  propertiesSuite,
  refillsSuite,
  smallBalancesSuite,
  twoPhaseSuite,
  usageReportSuite,
  usersAndLimitsSuite,
}
