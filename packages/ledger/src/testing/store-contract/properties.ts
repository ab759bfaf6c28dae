import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { openHarness, type StoreFactory } from '../harness.ts'

const users = ['p0', 'p1', 'p2'] as const
const tiers = ['free', 'monthly', 'additive', 'rollover', 'limited', 'empty'] as const

const tokens = fc.record(
  { input_tokens: fc.integer({ min: 0, max: 60 }), output_tokens: fc.integer({ min: 0, max: 60 }) },
  { requiredKeys: [] },
)

/** One random operation against the ledger. */
const operation = fc.oneof(
  fc.record({
    op: fc.constant('start' as const),
    user: fc.constantFrom(...users),
    tokens: fc.option(tokens, { nil: undefined }),
  }),
  fc.record({
    op: fc.constant('complete' as const),
    pick: fc.nat(),
    success: fc.boolean(),
    tokens,
  }),
  fc.record({
    op: fc.constant('extend' as const),
    pick: fc.nat(),
    ttl: fc.integer({ min: 1, max: 3600 }),
  }),
  fc.record({
    op: fc.constant('grant' as const),
    user: fc.constantFrom(...users),
    credits: fc.integer({ min: 1, max: 80 }),
    expiresInMs: fc.option(fc.integer({ min: 1, max: 20 * 86_400_000 }), { nil: undefined }),
  }),
  fc.record({
    op: fc.constant('advance' as const),
    ms: fc.integer({ min: 1, max: 12 * 86_400_000 }),
  }),
  fc.record({
    op: fc.constant('tier' as const),
    user: fc.constantFrom(...users),
    tier: fc.constantFrom(...tiers),
    reset: fc.boolean(),
  }),
  fc.record({ op: fc.constant('sweep' as const) }),
)

/**
 * Random sequences of operations keep every invariant of the design: conservation (verify
 * replays the journal and compares every stored balance), held equals what pending transactions
 * reserve, nothing is reserved that was not available, and a resolved transaction never changes.
 */
export function propertiesSuite(factory: StoreFactory, options: { runs?: number } = {}): void {
  describe('invariants under random operations', () => {
    it('keeps every ledger rule for any sequence of operations', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(operation, { minLength: 5, maxLength: 40 }),
          async (operations) => {
            const h = await openHarness(factory, undefined, '2026-01-31T12:00:00.000Z')
            try {
              const pending: string[] = []
              const resolved = new Map<string, string>()
              for (const user of users)
                await h.ledger.createUser(h.projectId, { user_id: user, tier_id: 'monthly' })
              for (const step of operations) {
                switch (step.op) {
                  case 'start': {
                    const before = await h.ledger.getBalance(h.projectId, step.user)
                    const start = await h.ledger.startUsage(h.projectId, {
                      user_id: step.user,
                      model: 'unit',
                      provisional_tokens: step.tokens,
                    })
                    if (start.continue) {
                      pending.push(start.transaction_id as string)
                      // Rule 3: a reservation never takes more than was available.
                      expect(start.credits_used).toBeLessThanOrEqual(Math.max(0, before.balance))
                      expect(start.balance).toBeGreaterThanOrEqual(0)
                    }
                    break
                  }
                  case 'complete': {
                    if (pending.length === 0) break
                    const [id] = pending.splice(step.pick % pending.length, 1) as [string]
                    try {
                      const done = await h.ledger.completeUsage(h.projectId, {
                        transaction_id: id,
                        success: step.success,
                        finalized_tokens: step.tokens,
                      })
                      expect(done.credits_used).toBe(
                        (step.tokens.input_tokens ?? 0) + (step.tokens.output_tokens ?? 0),
                      )
                    } catch (error) {
                      // Only an expiry (or a deleted user) may have resolved it first.
                      expect((await h.ledger.getTransaction(h.projectId, id)).status).toBe(
                        'expired',
                      )
                      expect((error as Error).name).toBe('ConflictError')
                    }
                    break
                  }
                  case 'extend': {
                    if (pending.length === 0) break
                    const id = pending[step.pick % pending.length] as string
                    await h.ledger
                      .extendUsage(h.projectId, { transaction_id: id, ttl_seconds: step.ttl })
                      .catch(() => undefined)
                    break
                  }
                  case 'grant':
                    await h.ledger.grantCredits(h.projectId, {
                      user_id: step.user,
                      credits: step.credits,
                      expires_at:
                        step.expiresInMs === undefined
                          ? undefined
                          : new Date(h.clock.now() + step.expiresInMs).toISOString(),
                    })
                    break
                  case 'advance':
                    h.clock.advance(step.ms)
                    break
                  case 'tier':
                    await h.ledger.changeUserTier(h.projectId, {
                      user_id: step.user,
                      tier_id: step.tier,
                      reset_balance: step.reset,
                    })
                    break
                  case 'sweep':
                    await h.ledger.sweep()
                    break
                }
                // Rule 4: a resolved transaction never changes.
                for (const [id, snapshot] of resolved) {
                  expect(JSON.stringify(await h.ledger.getTransaction(h.projectId, id))).toBe(
                    snapshot,
                  )
                }
                for (const id of [...pending]) {
                  const transaction = await h.ledger.getTransaction(h.projectId, id)
                  if (transaction.status !== 'pending') {
                    pending.splice(pending.indexOf(id), 1)
                    resolved.set(id, JSON.stringify(transaction))
                  }
                }
              }
              for (const user of users) {
                const balance = await h.ledger.getBalance(h.projectId, user)
                const held = (
                  await h.ledger.listTransactions(h.projectId, {
                    user_id: user,
                    status: 'pending',
                    limit: 100,
                  })
                ).data.reduce((sum, transaction) => sum + transaction.credits_reserved, 0)
                expect(balance.held).toBeCloseTo(held, 6)
              }
              const report = await h.ledger.verify(h.projectId)
              expect(report.differences).toEqual([])
              const { granted, available, held, spent, expired } = report.totals
              expect(available + held + spent + expired).toBeCloseTo(granted, 6)
            } finally {
              await h.close()
            }
          },
        ),
        { numRuns: options.runs ?? 40 },
      )
    }, 120_000)
  })
}
