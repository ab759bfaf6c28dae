import { ConflictError, problemSlug } from 'credly'
import { afterEach, describe, expect, it } from 'vitest'
import {
  type LedgerHarness,
  openHarness,
  type StoreFactory,
  testConfig,
  verifyAndClose,
} from '../harness.ts'

const MINUTE = 60_000

/** Rule 5: every hold expires by a documented policy; grants expire soonest first. */
export function expirySuite(factory: StoreFactory): void {
  describe('reservation expiry', () => {
    let h: LedgerHarness
    afterEach(() => verifyAndClose(h))

    const open = async (onExpire: 'charge' | 'release') => {
      h = await openHarness(factory, {
        ...testConfig,
        reservations: { ttl_seconds: 600, on_expire: onExpire },
      })
      await h.ledger.createUser(h.projectId, { user_id: 'ann' })
      return h.ledger.startUsage(h.projectId, {
        user_id: 'ann',
        model: 'unit',
        provisional_tokens: { output_tokens: 30 },
      })
    }

    it('charges an expired hold by default, on the next read, with no scheduler', async () => {
      const start = await open('charge')
      const pending = await h.ledger.getTransaction(h.projectId, start.transaction_id as string)
      expect(pending.expires_at).toBe('2026-01-31T12:10:00.000Z')
      h.clock.advance(10 * MINUTE)
      expect(await h.ledger.getBalance(h.projectId, 'ann')).toEqual({
        user_id: 'ann',
        balance: 70,
        held: 0,
      })
      expect(
        await h.ledger.getTransaction(h.projectId, start.transaction_id as string),
      ).toMatchObject({
        status: 'expired',
        credits_used: 30,
        expires_at: null,
      })
    })

    it('releases an expired hold under on_expire: release', async () => {
      const start = await open('release')
      h.clock.advance(10 * MINUTE + 1)
      expect(
        await h.ledger.getTransaction(h.projectId, start.transaction_id as string),
      ).toMatchObject({
        status: 'expired',
        credits_used: 0,
      })
      expect(await h.ledger.getBalance(h.projectId, 'ann')).toEqual({
        user_id: 'ann',
        balance: 100,
        held: 0,
      })
    })

    it('refuses to complete an expired transaction, and the expiry stays settled', async () => {
      const start = await open('release')
      h.clock.advance(11 * MINUTE)
      const error = await h.ledger
        .completeUsage(h.projectId, {
          transaction_id: start.transaction_id as string,
          success: true,
          finalized_tokens: {},
        })
        .catch((caught: unknown) => caught)
      expect(error).toBeInstanceOf(ConflictError)
      expect(problemSlug((error as ConflictError).type)).toBe('transaction-conflict')
      expect((error as ConflictError).detail).toMatch(/expired/)
      expect(
        (await h.ledger.getTransaction(h.projectId, start.transaction_id as string)).status,
      ).toBe('expired')
    })

    it('keeps a hold alive while it is extended', async () => {
      const start = await open('charge')
      const id = start.transaction_id as string
      for (let step = 0; step < 3; step++) {
        h.clock.advance(9 * MINUTE)
        const extended = await h.ledger.extendUsage(h.projectId, {
          transaction_id: id,
          ttl_seconds: 600,
        })
        expect(extended.status).toBe('pending')
      }
      const done = await h.ledger.completeUsage(h.projectId, {
        transaction_id: id,
        success: true,
        finalized_tokens: { output_tokens: 10 },
      })
      expect(done).toMatchObject({ credits_used: 10, balance: 90 })
    })

    it('the sweeper settles due reservations ahead of any read', async () => {
      const start = await open('charge')
      h.clock.advance(20 * MINUTE)
      expect((await h.ledger.sweep()).users).toBe(1)
      const row = await h.store.read((tx) =>
        tx.getTransaction(h.projectId, start.transaction_id as string),
      )
      expect(row?.status).toBe('expired')
      expect((await h.ledger.sweep()).users).toBe(0)
    })
  })

  describe('grant expiry', () => {
    let h: LedgerHarness
    afterEach(() => verifyAndClose(h))

    it('spends the soonest-expiring grant first and expires the remainder through the journal', async () => {
      h = await openHarness(factory)
      await h.ledger.createUser(h.projectId, { user_id: 'ann', tier_id: 'empty' })
      const late = await h.ledger.grantCredits(h.projectId, {
        user_id: 'ann',
        credits: 10,
        expires_at: '2026-03-01T00:00:00.000Z',
      })
      const soon = await h.ledger.grantCredits(h.projectId, {
        user_id: 'ann',
        credits: 10,
        expires_at: '2026-02-01T00:00:00.000Z',
      })
      const never = await h.ledger.grantCredits(h.projectId, { user_id: 'ann', credits: 10 })
      const start = await h.ledger.startUsage(h.projectId, {
        user_id: 'ann',
        model: 'unit',
        provisional_tokens: { output_tokens: 12 },
      })
      await h.ledger.completeUsage(h.projectId, {
        transaction_id: start.transaction_id as string,
        success: true,
        finalized_tokens: { output_tokens: 12 },
      })
      const remaining = async (id: string) =>
        (await h.store.read((tx) => tx.getBucket(id)))?.remaining
      expect(await remaining(soon.id)).toBe(0)
      expect(await remaining(late.id)).toBe(8_000_000)
      expect(await remaining(never.id)).toBe(10_000_000)

      h.clock.set('2026-03-01T00:00:00.000Z')
      expect(await h.ledger.getBalance(h.projectId, 'ann')).toEqual({
        user_id: 'ann',
        balance: 10,
        held: 0,
      })
      const expired = (await h.store.read((tx) => tx.readJournal(h.projectId, 0, 100))).filter(
        (entry) => entry.kind === 'expire',
      )
      expect(expired.map((entry) => [entry.debit, entry.amount])).toEqual([
        [`bucket:${late.id}`, 8_000_000],
      ])
    })

    it('a hold taken from a grant that expires meanwhile: used credits are charged, the rest expires', async () => {
      h = await openHarness(factory)
      await h.ledger.createUser(h.projectId, { user_id: 'ann', tier_id: 'empty' })
      await h.ledger.grantCredits(h.projectId, {
        user_id: 'ann',
        credits: 10,
        expires_at: '2026-01-31T12:05:00.000Z',
      })
      const start = await h.ledger.startUsage(h.projectId, {
        user_id: 'ann',
        model: 'unit',
        provisional_tokens: { output_tokens: 10 },
      })
      h.clock.advance(6 * MINUTE)
      const done = await h.ledger.completeUsage(h.projectId, {
        transaction_id: start.transaction_id as string,
        success: true,
        finalized_tokens: { output_tokens: 4 },
      })
      expect(done).toMatchObject({ credits_used: 4, balance: 0, balanceAdjustment: 6 })
      const report = await h.ledger.verify(h.projectId)
      expect(report.totals).toEqual({ granted: 10, available: 0, held: 0, spent: 4, expired: 6 })
    })

    it('refuses a grant that expires in the past', async () => {
      h = await openHarness(factory)
      await h.ledger.createUser(h.projectId, { user_id: 'ann' })
      await expect(
        h.ledger.grantCredits(h.projectId, {
          user_id: 'ann',
          credits: 1,
          expires_at: '2020-01-01T00:00:00.000Z',
        }),
      ).rejects.toThrow(/future/)
    })
  })
}
