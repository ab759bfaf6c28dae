import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type LedgerHarness, openHarness, type StoreFactory, verifyAndClose } from '../harness.ts'

/** Rule 3: concurrent starts against a balance that fits exactly k of them: exactly k continue. */
export function noOverspendSuite(factory: StoreFactory): void {
  describe('no overspend under concurrency', () => {
    let h: LedgerHarness
    beforeEach(async () => {
      h = await openHarness(factory)
    })
    afterEach(() => verifyAndClose(h))

    it.each([0, 1, 7, 37, 64])(
      '64 concurrent starts against a balance for exactly %i: exactly that many continue',
      async (k) => {
        await h.ledger.createUser(h.projectId, { user_id: 'racer', tier_id: 'empty' })
        if (k > 0) await h.ledger.grantCredits(h.projectId, { user_id: 'racer', credits: k * 3 })
        const starts = await Promise.all(
          Array.from({ length: 64 }, () =>
            h.ledger.startUsage(h.projectId, {
              user_id: 'racer',
              model: 'unit',
              provisional_tokens: { output_tokens: 3 },
            }),
          ),
        )
        expect(starts.filter((start) => start.continue)).toHaveLength(k)
        expect(
          starts
            .filter((start) => !start.continue)
            .every((start) => start.reason === 'insufficient_credits'),
        ).toBe(true)
        expect(await h.ledger.getBalance(h.projectId, 'racer')).toEqual({
          user_id: 'racer',
          balance: 0,
          held: k * 3,
        })
      },
    )

    it('concurrent starts and completes of many users keep every balance exact', async () => {
      const users = ['u0', 'u1', 'u2', 'u3']
      for (const user of users) await h.ledger.createUser(h.projectId, { user_id: user })
      await Promise.all(
        Array.from({ length: 80 }, async (_, index) => {
          const user = users[index % users.length] as string
          const start = await h.ledger.startUsage(h.projectId, {
            user_id: user,
            model: 'unit',
            provisional_tokens: { output_tokens: 5 },
          })
          if (start.transaction_id) {
            await h.ledger.completeUsage(h.projectId, {
              transaction_id: start.transaction_id,
              success: true,
              finalized_tokens: { output_tokens: 4 },
            })
          }
        }),
      )
      for (const user of users) {
        expect(await h.ledger.getBalance(h.projectId, user)).toEqual({
          user_id: user,
          balance: 20,
          held: 0,
        })
      }
    })
  })
}
