import { afterEach, describe, expect, it } from 'vitest'
import { type LedgerHarness, openHarness, type StoreFactory, verifyAndClose } from '../harness.ts'

const DAY = 86_400_000

/** Tiers: allocations, lazy refills by policy, month ends, leap years, idle catch-up, tier changes. */
export function refillsSuite(factory: StoreFactory): void {
  describe('refills', () => {
    let h: LedgerHarness
    afterEach(() => verifyAndClose(h))

    const spend = async (userId: string, credits: number) => {
      const start = await h.ledger.startUsage(h.projectId, { user_id: userId, model: 'unit' })
      await h.ledger.completeUsage(h.projectId, {
        transaction_id: start.transaction_id as string,
        success: true,
        finalized_tokens: { output_tokens: credits },
      })
    }

    it('replace: refills on the clamped month end, then on the anchor day again', async () => {
      h = await openHarness(factory) // 2026-01-31T12:00Z
      const user = await h.ledger.createUser(h.projectId, { user_id: 'ann', tier_id: 'monthly' })
      expect(user).toMatchObject({ balance: 100, next_refill_at: '2026-02-28T12:00:00.000Z' })
      await spend('ann', 30)

      h.clock.set('2026-02-28T11:59:59.999Z')
      expect((await h.ledger.getUser(h.projectId, 'ann')).balance).toBe(70)
      h.clock.set('2026-02-28T12:00:00.000Z')
      expect(await h.ledger.getUser(h.projectId, 'ann')).toMatchObject({
        balance: 100,
        next_refill_at: '2026-03-31T12:00:00.000Z',
      })
      const report = await h.ledger.verify(h.projectId)
      expect(report.totals).toEqual({
        granted: 200,
        available: 100,
        held: 0,
        spent: 30,
        expired: 70,
      })
    })

    it('replace: a January 31 anchor refills on February 29 in a leap year', async () => {
      h = await openHarness(factory, undefined, '2028-01-31T00:00:00.000Z')
      const user = await h.ledger.createUser(h.projectId, { user_id: 'leap', tier_id: 'monthly' })
      expect(user.next_refill_at).toBe('2028-02-29T00:00:00.000Z')
      h.clock.set('2028-02-29T00:00:00.000Z')
      expect((await h.ledger.getUser(h.projectId, 'leap')).next_refill_at).toBe(
        '2028-03-31T00:00:00.000Z',
      )
    })

    it('replace: catches up after a long idle time with one current allocation', async () => {
      h = await openHarness(factory)
      await h.ledger.createUser(h.projectId, { user_id: 'idle', tier_id: 'monthly' })
      await spend('idle', 60)
      h.clock.set('2027-04-15T00:00:00.000Z')
      expect(await h.ledger.getUser(h.projectId, 'idle')).toMatchObject({
        balance: 100,
        next_refill_at: '2027-04-30T12:00:00.000Z',
      })
      const refills = (await h.store.read((tx) => tx.readJournal(h.projectId, 0, 100))).filter(
        (entry) => entry.kind === 'refill',
      )
      expect(refills).toHaveLength(2)
    })

    it('add: one allocation per missed period', async () => {
      h = await openHarness(factory)
      await h.ledger.createUser(h.projectId, { user_id: 'adder', tier_id: 'additive' })
      await spend('adder', 4)
      h.clock.advance(5 * DAY + 1)
      expect((await h.ledger.getUser(h.projectId, 'adder')).balance).toBe(56)
    })

    it('rollover: adds the allocation up to max_balance of unspent tier credits', async () => {
      h = await openHarness(factory)
      await h.ledger.createUser(h.projectId, { user_id: 'roll', tier_id: 'rollover' })
      h.clock.advance(7 * DAY)
      expect((await h.ledger.getUser(h.projectId, 'roll')).balance).toBe(150)
      await spend('roll', 120)
      h.clock.advance(7 * DAY)
      expect((await h.ledger.getUser(h.projectId, 'roll')).balance).toBe(130)
      h.clock.advance(70 * DAY)
      expect((await h.ledger.getUser(h.projectId, 'roll')).balance).toBe(150)
      // Top-ups are the user's own and do not count against the cap.
      await h.ledger.grantCredits(h.projectId, { user_id: 'roll', credits: 25 })
      h.clock.advance(7 * DAY)
      expect((await h.ledger.getUser(h.projectId, 'roll')).balance).toBe(175)
    })

    it('a refill repays debt left by an overrun first', async () => {
      h = await openHarness(factory)
      await h.ledger.createUser(h.projectId, { user_id: 'debtor', tier_id: 'monthly' })
      await spend('debtor', 130)
      expect((await h.ledger.getBalance(h.projectId, 'debtor')).balance).toBe(-30)
      h.clock.set('2026-02-28T12:00:00.000Z')
      expect((await h.ledger.getBalance(h.projectId, 'debtor')).balance).toBe(70)
    })

    it('a tier without refill grants its credits once', async () => {
      h = await openHarness(factory)
      expect(await h.ledger.createUser(h.projectId, { user_id: 'once' })).toMatchObject({
        balance: 100,
        next_refill_at: null,
      })
      h.clock.advance(400 * DAY)
      expect((await h.ledger.getUser(h.projectId, 'once')).balance).toBe(100)
    })

    it('changeUserTier with reset_balance: tier credits are replaced, top-ups kept', async () => {
      h = await openHarness(factory)
      await h.ledger.createUser(h.projectId, { user_id: 'mover' })
      await h.ledger.grantCredits(h.projectId, { user_id: 'mover', credits: 7 })
      await spend('mover', 50)
      const moved = await h.ledger.changeUserTier(h.projectId, {
        user_id: 'mover',
        tier_id: 'monthly',
        reset_balance: true,
      })
      expect(moved).toMatchObject({
        tier_id: 'monthly',
        balance: 107,
        next_refill_at: '2026-02-28T12:00:00.000Z',
      })
    })

    it('changeUserTier with as_of: a change older than the last one applied changes nothing', async () => {
      h = await openHarness(factory)
      await h.ledger.createUser(h.projectId, { user_id: 'late' })
      const change = (tier_id: string | undefined, as_of: string) =>
        h.ledger.changeUserTier(h.projectId, {
          user_id: 'late',
          tier_id,
          as_of,
          reset_balance: true,
        })
      expect(await change('monthly', '2026-01-01T00:00:10.000Z')).toMatchObject({
        tier_id: 'monthly',
      })
      // The newer change (no tier: the default one) wins over one decided before it, arriving late.
      expect(await change(undefined, '2026-01-01T00:00:30.000Z')).toMatchObject({
        tier_id: 'free',
        balance: 100,
      })
      expect(await change('monthly', '2026-01-01T00:00:20.000Z')).toMatchObject({
        tier_id: 'free',
        balance: 100,
      })
      // As old as the last one: applied (events of the same second come in arrival order).
      expect(await change('monthly', '2026-01-01T00:00:30.000Z')).toMatchObject({
        tier_id: 'monthly',
      })
      // Without as_of, a change always applies and leaves the last as_of in place.
      await h.ledger.changeUserTier(h.projectId, { user_id: 'late', tier_id: 'free' })
      expect(await change('monthly', '2026-01-01T00:00:29.000Z')).toMatchObject({ tier_id: 'free' })
    })

    it('changeUserTier without reset keeps the balance; the new refills count from now', async () => {
      h = await openHarness(factory)
      await h.ledger.createUser(h.projectId, { user_id: 'keeper' })
      await spend('keeper', 50)
      h.clock.set('2026-02-10T00:00:00.000Z')
      const moved = await h.ledger.changeUserTier(h.projectId, {
        user_id: 'keeper',
        tier_id: 'additive',
      })
      expect(moved).toMatchObject({
        tier_id: 'additive',
        balance: 50,
        next_refill_at: '2026-02-11T00:00:00.000Z',
      })
      h.clock.set('2026-02-11T00:00:00.000Z')
      expect((await h.ledger.getUser(h.projectId, 'keeper')).balance).toBe(60)
    })
  })
}
