import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  type LedgerHarness,
  openHarness,
  type StoreFactory,
  testConfig,
  verifyAndClose,
} from '../harness.ts'

/** What a user can afford (`affordable_output_tokens`) and a tier's overdraft. */
export function smallBalancesSuite(factory: StoreFactory): void {
  describe('small balances', () => {
    let h: LedgerHarness
    beforeEach(async () => {
      h = await openHarness(factory, {
        ...testConfig,
        tiers: { ...testConfig.tiers, overdrawn: { credits: 10, overdraft: 5 } },
      })
      await h.ledger.createUser(h.projectId, { user_id: 'ann' }) // 100 credits
    })
    afterEach(() => verifyAndClose(h))

    it('says how many output tokens the balance affords, refused or not', async () => {
      const start = (output_tokens: number) =>
        h.ledger.startUsage(h.projectId, {
          user_id: 'ann',
          model: 'gpt-4o', // input 2.5, output 10 per million
          provisional_tokens: { input_tokens: 1_000_000, output_tokens },
        })
      const refused = await start(100_000_000)
      // (100 - 2.5 for the input) / 10 per million
      expect(refused).toMatchObject({
        continue: false,
        credits_required: 1002.5,
        affordable_output_tokens: 9_750_000,
      })
      const exact = await start(9_750_000)
      expect(exact).toMatchObject({ continue: true, credits_used: 100, balance: 0 })
      expect(exact.affordable_output_tokens).toBe(9_750_000)
      expect((await start(1)).affordable_output_tokens).toBe(0)
    })

    it('prices affordable output at the reasoning price when that is higher', async () => {
      const start = await h.ledger.startUsage(h.projectId, {
        user_id: 'ann',
        model: 'o4-mini', // output 4.4, reasoning 8.8 per million
        provisional_tokens: { output_tokens: 1 },
      })
      expect(start.affordable_output_tokens).toBe(Math.floor(100e6 / 8.8))
    })

    it('counts the rate limit window: what it still allows, not the balance', async () => {
      await h.ledger.createUser(h.projectId, { user_id: 'bob', tier_id: 'limited' })
      const start = await h.ledger.startUsage(h.projectId, {
        user_id: 'bob',
        model: 'unit',
        provisional_tokens: { input_tokens: 10, output_tokens: 100 },
      })
      expect(start).toMatchObject({ reason: 'rate_limited', affordable_output_tokens: 40 })
    })

    it('lets a tier overdraw to its overdraft, holding the rest against debt repaid first', async () => {
      await h.ledger.createUser(h.projectId, { user_id: 'ovi', tier_id: 'overdrawn' })
      const start = (output_tokens: number) =>
        h.ledger.startUsage(h.projectId, {
          user_id: 'ovi',
          model: 'unit',
          provisional_tokens: { output_tokens },
        })
      expect(await start(16)).toMatchObject({ continue: false, affordable_output_tokens: 15 })
      const first = await start(14)
      expect(first).toMatchObject({ continue: true, balance: -4 })
      expect(await h.ledger.getBalance(h.projectId, 'ovi')).toMatchObject({
        balance: -4,
        held: 14,
      })
      await h.ledger.completeUsage(h.projectId, {
        transaction_id: first.transaction_id as string,
        success: true,
        finalized_tokens: { output_tokens: 12 },
      })
      expect(await h.ledger.getBalance(h.projectId, 'ovi')).toMatchObject({ balance: -2, held: 0 })
      expect(await start(4)).toMatchObject({ continue: false, affordable_output_tokens: 3 })
      const last = await start(3)
      expect(last).toMatchObject({ continue: true, balance: -5 })
      // A refund gives the overdraft back; new credits repay the debt first.
      await h.ledger.completeUsage(h.projectId, {
        transaction_id: last.transaction_id as string,
        success: false,
        finalized_tokens: {},
      })
      await h.ledger.grantCredits(h.projectId, { user_id: 'ovi', credits: 10 })
      expect(await h.ledger.getBalance(h.projectId, 'ovi')).toMatchObject({ balance: 8, held: 0 })
    })
  })
}
