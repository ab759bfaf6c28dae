import type { ProjectConfigInput } from 'credly'
import { expect } from 'vitest'
import { createTestClock, type TestClock } from '../clock.ts'
import { createLedger, type Ledger } from '../engine/ledger.ts'
import type { Store } from '../stores/store.ts'

/** What every contract test gets: a ledger on a fresh store, its clock and a project. */
export type LedgerHarness = {
  ledger: Ledger
  clock: TestClock
  store: Store
  projectId: string
  /** Closes the store and removes what the factory made. */
  close(): Promise<void>
}

/** Opens a fresh, empty store; the contract suites call it once per test. */
export type StoreFactory = () => Promise<{ store: Store; cleanup?: () => Promise<void> }>

/**
 * Models and tiers the contract suites use. `unit` costs one credit per input or output token,
 * so amounts in tests read as token counts.
 */
export const testConfig = {
  models: {
    unit: { input: 1_000_000, output: 1_000_000 },
    'gpt-4o': { input: 2.5, output: 10, cached_input: 1.25 },
    'o4-mini': { input: 1.1, output: 4.4, reasoning: 8.8, cache_write: 2 },
  },
  tiers: {
    free: { credits: 100 },
    monthly: { credits: 100, refill: { every: 'month', policy: 'replace' } },
    additive: { credits: 10, refill: { every: 'day', policy: 'add' } },
    rollover: { credits: 100, refill: { every: 'week', policy: 'rollover', max_balance: 150 } },
    limited: { credits: 1000, rate_limit: { credits: 50, per: 'minute' } },
    empty: { credits: 0 },
  },
  default_tier: 'free',
} satisfies ProjectConfigInput

/** Opens a harness: a fresh store, a test clock at 2026-01-31T12:00Z and one project. */
export async function openHarness(
  factory: StoreFactory,
  config: ProjectConfigInput = testConfig,
  start = '2026-01-31T12:00:00.000Z',
): Promise<LedgerHarness> {
  const { store, cleanup } = await factory()
  const clock = createTestClock(start)
  const ledger = createLedger({ store, clock })
  const close = async () => {
    await store.close()
    await cleanup?.()
  }
  // A store that cannot even create the project (a broken build) still leaves nothing behind.
  const project = await ledger.createProject({ config }).catch(async (error: unknown) => {
    await close().catch(() => undefined)
    throw error
  })
  return {
    ledger,
    clock,
    store,
    projectId: project.id,
    close,
  }
}

/** After a test: the journal must still agree with every balance; then the store closes. */
export async function verifyAndClose(harness: LedgerHarness | undefined): Promise<void> {
  if (!harness) return
  try {
    expect((await harness.ledger.verify(harness.projectId)).differences).toEqual([])
  } finally {
    await harness.close()
  }
}
