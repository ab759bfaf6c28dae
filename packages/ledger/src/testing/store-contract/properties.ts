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

    it('decides every start of a rate-limited user from what its window holds', async () => {
      // Starts, completes above or below the reservation, expiries and the clock, on one user of
      // the `limited` tier (50 credits a minute), in amounts that often fit: each start's
      // decision must agree with the window's transactions as listed afterwards.
      const step = fc.oneof(
        fc.record({ op: fc.constant('start' as const), credits: fc.integer({ min: 0, max: 30 }) }),
        fc.record({
          op: fc.constant('complete' as const),
          pick: fc.nat(),
          credits: fc.integer({ min: 0, max: 40 }),
        }),
        fc.record({ op: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 90_000 }) }),
        fc.record({ op: fc.constant('sweep' as const) }),
      )
      await fc.assert(
        fc.asyncProperty(fc.array(step, { minLength: 5, maxLength: 40 }), async (steps) => {
          const h = await openHarness(factory, undefined, '2026-01-31T12:00:00.000Z')
          try {
            await h.ledger.createUser(h.projectId, { user_id: 'r', tier_id: 'limited' })
            // Credits enough that only the rate limit refuses.
            await h.ledger.grantCredits(h.projectId, { user_id: 'r', credits: 1_000_000 })
            const pending: string[] = []
            /** Credits counted in the current minute: reserved while pending, else used. */
            const windowSpend = async () => {
              const since = Math.floor(h.clock.now() / 60_000) * 60_000
              const { data } = await h.ledger.listTransactions(h.projectId, {
                user_id: 'r',
                created_after: new Date(since).toISOString(),
                limit: 100,
              })
              return data.reduce(
                (sum, call) =>
                  sum + (call.status === 'pending' ? call.credits_reserved : call.credits_used),
                0,
              )
            }
            for (const next of steps) {
              if (next.op === 'start') {
                const start = await h.ledger.startUsage(h.projectId, {
                  user_id: 'r',
                  model: 'unit',
                  provisional_tokens: { input_tokens: next.credits },
                })
                // What the window held when the start decided (what it settled first included).
                const spent = (await windowSpend()) - (start.continue ? next.credits : 0)
                const over = spent + next.credits > 50 || (next.credits === 0 && spent >= 50)
                expect(start.continue ? 'continued' : start.reason).toBe(
                  over ? 'rate_limited' : 'continued',
                )
                if (start.continue) pending.push(start.transaction_id as string)
              } else if (next.op === 'complete') {
                if (pending.length === 0) continue
                const [id] = pending.splice(next.pick % pending.length, 1) as [string]
                await h.ledger
                  .completeUsage(h.projectId, {
                    transaction_id: id,
                    success: true,
                    finalized_tokens: { input_tokens: next.credits },
                  })
                  // An expired reservation is settled already.
                  .catch(() => undefined)
              } else if (next.op === 'advance') h.clock.advance(next.ms)
              else await h.ledger.sweep()
            }
            expect((await h.ledger.verify(h.projectId)).differences).toEqual([])
          } finally {
            await h.close()
          }
        }),
        { numRuns: options.runs ?? 40 },
      )
    }, 120_000)
  })
}
