import { ConflictError, NotFoundError, problemSlug, ValidationError } from 'credly'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type LedgerHarness, openHarness, type StoreFactory, verifyAndClose } from '../harness.ts'

/** Reserve, settle, refund, overrun, failure and the journal that records them. */
export function twoPhaseSuite(factory: StoreFactory): void {
  describe('two-phase usage', () => {
    let h: LedgerHarness
    beforeEach(async () => {
      h = await openHarness(factory)
      await h.ledger.createUser(h.projectId, { user_id: 'ann' })
    })
    afterEach(() => verifyAndClose(h))

    it('reserves the provisional price and refunds the difference on complete', async () => {
      const start = await h.ledger.startUsage(h.projectId, {
        user_id: 'ann',
        model: 'unit',
        provisional_tokens: { input_tokens: 10, output_tokens: 20 },
      })
      expect(start).toMatchObject({
        continue: true,
        credits_used: 30,
        credits_required: 30,
        balance: 70,
        reason: null,
      })
      expect(await h.ledger.getBalance(h.projectId, 'ann')).toEqual({
        user_id: 'ann',
        balance: 70,
        held: 30,
      })

      const done = await h.ledger.completeUsage(h.projectId, {
        transaction_id: start.transaction_id as string,
        success: true,
        finalized_tokens: { input_tokens: 10, output_tokens: 5 },
      })
      expect(done).toEqual({
        transaction_id: start.transaction_id,
        credits_used: 15,
        balance: 85,
        balanceAdjustment: 15,
      })
      expect(await h.ledger.getBalance(h.projectId, 'ann')).toEqual({
        user_id: 'ann',
        balance: 85,
        held: 0,
      })
      const transaction = await h.ledger.getTransaction(h.projectId, start.transaction_id as string)
      expect(transaction).toMatchObject({
        status: 'completed',
        credits_reserved: 30,
        credits_used: 15,
        finalized_tokens: { input_tokens: 10, output_tokens: 5 },
        price: { input: 1_000_000, output: 1_000_000 },
        expires_at: null,
      })
    })

    it('charges the extra when usage exceeds the reservation, going below zero, and refuses the next start', async () => {
      const start = await h.ledger.startUsage(h.projectId, {
        user_id: 'ann',
        model: 'unit',
        provisional_tokens: { output_tokens: 90 },
      })
      const done = await h.ledger.completeUsage(h.projectId, {
        transaction_id: start.transaction_id as string,
        success: true,
        finalized_tokens: { output_tokens: 130 },
      })
      expect(done).toMatchObject({ credits_used: 130, balance: -30, balanceAdjustment: -40 })
      const next = await h.ledger.startUsage(h.projectId, { user_id: 'ann', model: 'unit' })
      expect(next).toMatchObject({
        continue: false,
        reason: 'insufficient_credits',
        transaction_id: null,
        balance: -30,
      })

      // A top-up repays the debt first.
      await h.ledger.grantCredits(h.projectId, { user_id: 'ann', credits: 50 })
      expect(await h.ledger.getBalance(h.projectId, 'ann')).toEqual({
        user_id: 'ann',
        balance: 20,
        held: 0,
      })
    })

    it('without provisional tokens continues while the balance is above zero, reserving nothing', async () => {
      const start = await h.ledger.startUsage(h.projectId, { user_id: 'ann', model: 'unit' })
      expect(start).toMatchObject({ continue: true, credits_used: 0, balance: 100 })
      const done = await h.ledger.completeUsage(h.projectId, {
        transaction_id: start.transaction_id as string,
        success: true,
        finalized_tokens: { input_tokens: 100 },
      })
      expect(done).toMatchObject({ credits_used: 100, balance: 0, balanceAdjustment: -100 })
      expect(
        await h.ledger.startUsage(h.projectId, { user_id: 'ann', model: 'unit' }),
      ).toMatchObject({
        continue: false,
        reason: 'insufficient_credits',
      })
    })

    it('refuses a reservation the balance cannot cover and holds nothing', async () => {
      const start = await h.ledger.startUsage(h.projectId, {
        user_id: 'ann',
        model: 'unit',
        provisional_tokens: { input_tokens: 101 },
      })
      expect(start).toMatchObject({
        continue: false,
        transaction_id: null,
        credits_used: 0,
        credits_required: 101,
        balance: 100,
        reason: 'insufficient_credits',
      })
      expect(start.message).toContain('101')
      expect(await h.ledger.getBalance(h.projectId, 'ann')).toEqual({
        user_id: 'ann',
        balance: 100,
        held: 0,
      })
    })

    it('success: false charges the tokens given, and zero tokens refund everything', async () => {
      const first = await h.ledger.startUsage(h.projectId, {
        user_id: 'ann',
        model: 'unit',
        provisional_tokens: { output_tokens: 40 },
      })
      const failed = await h.ledger.completeUsage(h.projectId, {
        transaction_id: first.transaction_id as string,
        success: false,
        finalized_tokens: { input_tokens: 7 },
      })
      expect(failed).toMatchObject({ credits_used: 7, balance: 93, balanceAdjustment: 33 })
      expect(
        (await h.ledger.getTransaction(h.projectId, first.transaction_id as string)).status,
      ).toBe('failed')

      const second = await h.ledger.startUsage(h.projectId, {
        user_id: 'ann',
        model: 'unit',
        provisional_tokens: { output_tokens: 40 },
      })
      const refunded = await h.ledger.completeUsage(h.projectId, {
        transaction_id: second.transaction_id as string,
        success: false,
        finalized_tokens: {},
      })
      expect(refunded).toMatchObject({ credits_used: 0, balance: 93, balanceAdjustment: 40 })
    })

    it('prices cached input, cache writes and reasoning at their own prices, rounding up', async () => {
      // o4-mini: input 1.1, cache_write 2, output 4.4, reasoning 8.8 credits per million tokens.
      const start = await h.ledger.startUsage(h.projectId, { user_id: 'ann', model: 'o4-mini' })
      const done = await h.ledger.completeUsage(h.projectId, {
        transaction_id: start.transaction_id as string,
        success: true,
        finalized_tokens: {
          input_tokens: 1_000_000,
          cache_write_tokens: 500_000,
          output_tokens: 1_000_000,
          reasoning_tokens: 250_000,
        },
      })
      // 500k*1.1 + 500k*2 + 750k*4.4 + 250k*8.8 = 0.55 + 1 + 3.3 + 2.2 credits
      expect(done.credits_used).toBe(7.05)
      // gpt-4o: cached reads cost 1.25; one token costs 2.5 micro-credits: rounded up to 3.
      const tiny = await h.ledger.startUsage(h.projectId, { user_id: 'ann', model: 'gpt-4o' })
      const tinyDone = await h.ledger.completeUsage(h.projectId, {
        transaction_id: tiny.transaction_id as string,
        success: true,
        finalized_tokens: { input_tokens: 1 },
      })
      expect(tinyDone.credits_used).toBe(0.000003)
    })

    it('refuses an unknown model with a clear error and changes nothing', async () => {
      const error = await h.ledger
        .startUsage(h.projectId, {
          user_id: 'ann',
          model: 'gpt-9',
          provisional_tokens: { input_tokens: 1 },
        })
        .catch((caught: unknown) => caught)
      expect(error).toBeInstanceOf(ValidationError)
      expect(problemSlug((error as ValidationError).type)).toBe('unknown-model')
      expect((error as ValidationError).detail).toContain('gpt-9')
      expect(await h.ledger.getBalance(h.projectId, 'ann')).toEqual({
        user_id: 'ann',
        balance: 100,
        held: 0,
      })
    })

    it('refuses an unknown user and an unknown transaction with 404 problems', async () => {
      const user = await h.ledger
        .startUsage(h.projectId, { user_id: 'nobody', model: 'unit' })
        .catch((caught: unknown) => caught)
      expect(user).toBeInstanceOf(NotFoundError)
      expect(problemSlug((user as NotFoundError).type)).toBe('user-not-found')
      const transaction = await h.ledger
        .completeUsage(h.projectId, {
          transaction_id: 'txn_missing',
          success: true,
          finalized_tokens: {},
        })
        .catch((caught: unknown) => caught)
      expect(problemSlug((transaction as NotFoundError).type)).toBe('transaction-not-found')
    })

    it('rejects bad input with a ValidationError before touching the ledger', async () => {
      const cases = [
        () =>
          h.ledger.startUsage(h.projectId, {
            user_id: 'ann',
            model: 'unit',
            provisional_tokens: { input_tokens: -1 },
          }),
        () => h.ledger.startUsage(h.projectId, { user_id: '', model: 'unit' }),
        () => h.ledger.grantCredits(h.projectId, { user_id: 'ann', credits: -5 }),
        () => h.ledger.grantCredits(h.projectId, { user_id: 'ann', credits: 0.0000001 }),
        () =>
          h.ledger.completeUsage(h.projectId, {
            transaction_id: 'txn_1',
            success: true,
            finalized_tokens: { output_tokens: 2.5 },
          }),
        () => h.ledger.createUser(h.projectId, { user_id: 'bob', tier_id: 'platinum' }),
        () => h.ledger.listTransactions(h.projectId, { cursor: 'garbage' }),
      ]
      for (const run of cases) await expect(run()).rejects.toBeInstanceOf(ValidationError)
      expect(await h.ledger.getBalance(h.projectId, 'ann')).toEqual({
        user_id: 'ann',
        balance: 100,
        held: 0,
      })
    })

    it('records every movement in the journal with the price used', async () => {
      const start = await h.ledger.startUsage(h.projectId, {
        user_id: 'ann',
        model: 'unit',
        provisional_tokens: { output_tokens: 10 },
      })
      await h.ledger.completeUsage(h.projectId, {
        transaction_id: start.transaction_id as string,
        success: true,
        finalized_tokens: { output_tokens: 4 },
      })
      const entries = await h.store.read((tx) => tx.readJournal(h.projectId, 0, 100))
      expect(entries.map((entry) => [entry.kind, entry.amount])).toEqual([
        ['refill', 100_000_000],
        ['reserve', 10_000_000],
        ['charge', 4_000_000],
        ['release', 6_000_000],
      ])
      expect(
        entries.every((entry, index) => index === 0 || entry.seq > (entries[index - 1]?.seq ?? 0)),
      ).toBe(true)
      const report = await h.ledger.verify(h.projectId)
      expect(report).toMatchObject({
        ok: true,
        totals: { granted: 100, available: 96, held: 0, spent: 4, expired: 0 },
      })
    })
  })

  describe('exactly-once', () => {
    let h: LedgerHarness
    beforeEach(async () => {
      h = await openHarness(factory)
      await h.ledger.createUser(h.projectId, { user_id: 'ann' })
    })
    afterEach(() => verifyAndClose(h))

    it('returns the first result for a repeated complete and refuses a different body', async () => {
      const start = await h.ledger.startUsage(h.projectId, {
        user_id: 'ann',
        model: 'unit',
        provisional_tokens: { output_tokens: 10 },
      })
      const body = {
        transaction_id: start.transaction_id as string,
        success: true,
        finalized_tokens: { output_tokens: 3 },
      }
      const first = await h.ledger.completeUsage(h.projectId, body)
      await h.ledger.grantCredits(h.projectId, { user_id: 'ann', credits: 1 })
      // The replay answers exactly what the first call did, even though the balance moved since.
      expect(await h.ledger.completeUsage(h.projectId, body)).toEqual(first)
      const conflict = await h.ledger
        .completeUsage(h.projectId, { ...body, finalized_tokens: { output_tokens: 4 } })
        .catch((caught: unknown) => caught)
      expect(conflict).toBeInstanceOf(ConflictError)
      expect(problemSlug((conflict as ConflictError).type)).toBe('transaction-conflict')
      expect(await h.ledger.getBalance(h.projectId, 'ann')).toEqual({
        user_id: 'ann',
        balance: 98,
        held: 0,
      })
    })

    it('concurrent completes of one transaction settle it once', async () => {
      const start = await h.ledger.startUsage(h.projectId, {
        user_id: 'ann',
        model: 'unit',
        provisional_tokens: { output_tokens: 10 },
      })
      const body = {
        transaction_id: start.transaction_id as string,
        success: true,
        finalized_tokens: { output_tokens: 6 },
      }
      const results = await Promise.all(
        Array.from({ length: 8 }, () => h.ledger.completeUsage(h.projectId, body)),
      )
      for (const result of results) expect(result).toEqual(results[0])
      expect(await h.ledger.getBalance(h.projectId, 'ann')).toEqual({
        user_id: 'ann',
        balance: 94,
        held: 0,
      })
    })

    it('replays a start with the same idempotency key and refuses a different body', async () => {
      const request = { user_id: 'ann', model: 'unit', provisional_tokens: { output_tokens: 10 } }
      const first = await h.ledger.startUsage(h.projectId, request, { idempotencyKey: 'k1' })
      const again = await h.ledger.startUsage(h.projectId, request, { idempotencyKey: 'k1' })
      expect(again).toEqual(first)
      expect(await h.ledger.getBalance(h.projectId, 'ann')).toEqual({
        user_id: 'ann',
        balance: 90,
        held: 10,
      })
      const conflict = await h.ledger
        .startUsage(
          h.projectId,
          { ...request, provisional_tokens: { output_tokens: 11 } },
          { idempotencyKey: 'k1' },
        )
        .catch((caught: unknown) => caught)
      expect(problemSlug((conflict as ConflictError).type)).toBe('idempotency-conflict')
    })

    it('concurrent starts with one idempotency key reserve once', async () => {
      const request = { user_id: 'ann', model: 'unit', provisional_tokens: { output_tokens: 10 } }
      const results = await Promise.all(
        Array.from({ length: 8 }, () =>
          h.ledger.startUsage(h.projectId, request, { idempotencyKey: 'same' }),
        ),
      )
      expect(new Set(results.map((result) => result.transaction_id)).size).toBe(1)
      expect(await h.ledger.getBalance(h.projectId, 'ann')).toEqual({
        user_id: 'ann',
        balance: 90,
        held: 10,
      })
    })

    it('makes grants exactly-once by idempotency key', async () => {
      const first = await h.ledger.grantCredits(
        h.projectId,
        { user_id: 'ann', credits: 5 },
        { idempotencyKey: 'g1' },
      )
      const again = await h.ledger.grantCredits(
        h.projectId,
        { user_id: 'ann', credits: 5 },
        { idempotencyKey: 'g1' },
      )
      expect(again.id).toBe(first.id)
      expect((await h.ledger.getBalance(h.projectId, 'ann')).balance).toBe(105)
    })

    it('refuses a duplicate user with a conflict', async () => {
      const error = await h.ledger
        .createUser(h.projectId, { user_id: 'ann' })
        .catch((caught: unknown) => caught)
      expect(problemSlug((error as ConflictError).type)).toBe('user-exists')
    })
  })
}
