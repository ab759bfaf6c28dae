import { type ConflictError, NotFoundError, problemSlug } from 'credly'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createLedger } from '../../engine/ledger.ts'
import {
  type LedgerHarness,
  openHarness,
  type StoreFactory,
  testConfig,
  verifyAndClose,
} from '../harness.ts'

/** Users and history, credit rate limits, and project isolation (rule 8). */
export function usersAndLimitsSuite(factory: StoreFactory): void {
  describe('users and history', () => {
    let h: LedgerHarness
    beforeEach(async () => {
      h = await openHarness(factory)
    })
    afterEach(() => verifyAndClose(h))

    it('pages users in id order and filters by tier', async () => {
      for (const id of ['carol', 'alice', 'bob', 'dave']) {
        await h.ledger.createUser(h.projectId, {
          user_id: id,
          tier_id: id === 'bob' ? 'monthly' : 'free',
        })
      }
      const first = await h.ledger.listUsers(h.projectId, { limit: 3 })
      expect(first.data.map((user) => user.user_id)).toEqual(['alice', 'bob', 'carol'])
      expect(first.has_more).toBe(true)
      const second = await h.ledger.listUsers(h.projectId, {
        limit: 3,
        cursor: first.next_cursor as string,
      })
      expect(second).toMatchObject({ has_more: false, next_cursor: null })
      expect(second.data.map((user) => user.user_id)).toEqual(['dave'])
      const monthly = await h.ledger.listUsers(h.projectId, { tier_id: 'monthly' })
      expect(monthly.data.map((user) => user.user_id)).toEqual(['bob'])
    })

    it('filters and pages transactions newest first', async () => {
      await h.ledger.createUser(h.projectId, { user_id: 'ann' })
      await h.ledger.createUser(h.projectId, { user_id: 'ben' })
      const ids: string[] = []
      for (let index = 0; index < 5; index++) {
        h.clock.advance(1000)
        const start = await h.ledger.startUsage(h.projectId, {
          user_id: index === 4 ? 'ben' : 'ann',
          model: index % 2 === 0 ? 'unit' : 'gpt-4o',
          feature_identifier: index < 2 ? 'chat' : 'search',
        })
        ids.push(start.transaction_id as string)
      }
      await h.ledger.completeUsage(h.projectId, {
        transaction_id: ids[0] as string,
        success: true,
        finalized_tokens: {},
      })

      const ann = await h.ledger.listTransactions(h.projectId, { user_id: 'ann', limit: 3 })
      expect(ann.data.map((transaction) => transaction.id)).toEqual([ids[3], ids[2], ids[1]])
      const rest = await h.ledger.listTransactions(h.projectId, {
        user_id: 'ann',
        limit: 3,
        cursor: ann.next_cursor as string,
      })
      expect(rest.data.map((transaction) => transaction.id)).toEqual([ids[0]])
      expect(
        (await h.ledger.listTransactions(h.projectId, { status: 'completed' })).data.map(
          (t) => t.id,
        ),
      ).toEqual([ids[0]])
      expect((await h.ledger.listTransactions(h.projectId, { model: 'gpt-4o' })).data).toHaveLength(
        2,
      )
      expect(
        (await h.ledger.listTransactions(h.projectId, { feature_identifier: 'chat' })).data,
      ).toHaveLength(2)
      const windowed = await h.ledger.listTransactions(h.projectId, {
        created_after: '2026-01-31T12:00:02.000Z',
        created_before: '2026-01-31T12:00:04.000Z',
      })
      expect(windowed.data.map((transaction) => transaction.id)).toEqual([ids[2], ids[1]])
    })

    it('deletes a user, releasing pending holds, keeping the history, and frees the id', async () => {
      await h.ledger.createUser(h.projectId, { user_id: 'gone' })
      const start = await h.ledger.startUsage(h.projectId, {
        user_id: 'gone',
        model: 'unit',
        provisional_tokens: { output_tokens: 10 },
      })
      expect(await h.ledger.deleteUser(h.projectId, 'gone')).toEqual({
        user_id: 'gone',
        deleted: true,
      })
      await expect(h.ledger.getUser(h.projectId, 'gone')).rejects.toBeInstanceOf(NotFoundError)
      expect(
        (await h.ledger.getTransaction(h.projectId, start.transaction_id as string)).status,
      ).toBe('expired')
      const again = await h.ledger.createUser(h.projectId, { user_id: 'gone' })
      expect(again.balance).toBe(100)
    })

    it('answers a complete after its user was deleted (and the id reused) as a conflict, from any process', async () => {
      await h.ledger.createUser(h.projectId, { user_id: 'gone' })
      const start = await h.ledger.startUsage(h.projectId, {
        user_id: 'gone',
        model: 'unit',
        provisional_tokens: { output_tokens: 10 },
      })
      const complete = {
        transaction_id: start.transaction_id as string,
        success: true,
        finalized_tokens: { output_tokens: 5 },
      }
      // This ledger started the call and remembers its user; a second one on the store does not.
      const elsewhere = createLedger({ store: h.store, clock: h.clock })
      await h.ledger.deleteUser(h.projectId, 'gone')
      for (const ledger of [h.ledger, elsewhere]) {
        const error = await ledger.completeUsage(h.projectId, complete).catch((caught) => caught)
        expect(problemSlug((error as ConflictError).type)).toBe('transaction-conflict')
      }
      // A new user under the same id is not charged for the old user's call.
      await h.ledger.createUser(h.projectId, { user_id: 'gone' })
      for (const ledger of [h.ledger, elsewhere]) {
        const error = await ledger.completeUsage(h.projectId, complete).catch((caught) => caught)
        expect(problemSlug((error as ConflictError).type)).toBe('transaction-conflict')
      }
      expect((await h.ledger.getUser(h.projectId, 'gone')).balance).toBe(100)
      expect(
        (await h.ledger.getTransaction(h.projectId, start.transaction_id as string)).status,
      ).toBe('expired')
    })

    it('keeps metadata on the user', async () => {
      const user = await h.ledger.createUser(h.projectId, {
        user_id: 'meta',
        metadata: { plan: 'beta' },
      })
      expect(user.metadata).toEqual({ plan: 'beta' })
      expect((await h.ledger.getUser(h.projectId, 'meta')).metadata).toEqual({ plan: 'beta' })
    })
  })

  describe('credit rate limits', () => {
    let h: LedgerHarness
    afterEach(() => verifyAndClose(h))

    it('counts reserved and settled credits per window and says when to retry', async () => {
      h = await openHarness(factory, testConfig, '2026-01-31T12:00:10.000Z')
      await h.ledger.createUser(h.projectId, { user_id: 'busy', tier_id: 'limited' })
      const first = await h.ledger.startUsage(h.projectId, {
        user_id: 'busy',
        model: 'unit',
        provisional_tokens: { output_tokens: 30 },
      })
      expect(first.continue).toBe(true)
      const second = await h.ledger.startUsage(h.projectId, {
        user_id: 'busy',
        model: 'unit',
        provisional_tokens: { output_tokens: 30 },
      })
      expect(second).toMatchObject({
        continue: false,
        reason: 'rate_limited',
        retry_after_seconds: 50,
        rate_limit: { limit: 50, window_seconds: 60 },
        transaction_id: null,
      })
      // Settling below the reservation frees room in the window.
      await h.ledger.completeUsage(h.projectId, {
        transaction_id: first.transaction_id as string,
        success: true,
        finalized_tokens: { output_tokens: 10 },
      })
      const third = await h.ledger.startUsage(h.projectId, {
        user_id: 'busy',
        model: 'unit',
        provisional_tokens: { output_tokens: 30 },
      })
      expect(third.continue).toBe(true)
      h.clock.advance(50_000)
      const nextWindow = await h.ledger.startUsage(h.projectId, {
        user_id: 'busy',
        model: 'unit',
        provisional_tokens: { output_tokens: 45 },
      })
      expect(nextWindow.continue).toBe(true)
    })

    it('fills a window exactly with starts that arrive together, and counts their settling', async () => {
      h = await openHarness(factory, testConfig, '2026-01-31T12:00:10.000Z')
      await h.ledger.createUser(h.projectId, { user_id: 'busy', tier_id: 'limited' })
      const start = (tokens: number) =>
        h.ledger.startUsage(h.projectId, {
          user_id: 'busy',
          model: 'unit',
          provisional_tokens: { output_tokens: tokens },
        })
      // 50 credits a minute: exactly 7 starts of 7 fit.
      const starts = await Promise.all(Array.from({ length: 20 }, () => start(7)))
      const continued = starts.filter((result) => result.continue)
      expect(continued).toHaveLength(7)
      // Settled together, each at 2: 14 of the window spent, 36 left.
      await Promise.all(
        continued.map((result) =>
          h.ledger.completeUsage(h.projectId, {
            transaction_id: result.transaction_id as string,
            success: true,
            finalized_tokens: { output_tokens: 2 },
          }),
        ),
      )
      const [fits, over] = await Promise.all([start(36), start(1)])
      expect([fits?.continue, over?.reason]).toEqual([true, 'rate_limited'])
    })

    it('counts only this user’s spend, not a deleted user’s under the same id or another user’s', async () => {
      h = await openHarness(factory, testConfig, '2026-01-31T12:00:10.000Z')
      const start = (userId: string, tokens: number) =>
        h.ledger.startUsage(h.projectId, {
          user_id: userId,
          model: 'unit',
          provisional_tokens: { output_tokens: tokens },
        })
      for (const user of ['busy', 'neighbour'])
        await h.ledger.createUser(h.projectId, { user_id: user, tier_id: 'limited' })
      const spent = await start('busy', 40)
      await h.ledger.completeUsage(h.projectId, {
        transaction_id: spent.transaction_id as string,
        success: true,
        finalized_tokens: { output_tokens: 40 },
      })
      expect((await start('busy', 20)).reason).toBe('rate_limited')
      expect((await start('neighbour', 45)).continue).toBe(true)
      await h.ledger.deleteUser(h.projectId, 'busy')
      await h.ledger.createUser(h.projectId, { user_id: 'busy', tier_id: 'limited' })
      // Same id, same minute: a new user, with the whole window.
      expect((await start('busy', 45)).continue).toBe(true)
      expect((await start('busy', 10)).reason).toBe('rate_limited')
    })
  })

  describe('project isolation', () => {
    let h: LedgerHarness
    afterEach(async () => {
      await h.close()
    })

    it('one project can neither read nor change another project’s users or transactions', async () => {
      h = await openHarness(factory)
      const other = await h.ledger.createProject({ config: testConfig })
      await h.ledger.createUser(h.projectId, { user_id: 'shared-id' })
      const start = await h.ledger.startUsage(h.projectId, {
        user_id: 'shared-id',
        model: 'unit',
        provisional_tokens: { output_tokens: 5 },
      })
      const transactionId = start.transaction_id as string

      const read = await h.ledger.getUser(other.id, 'shared-id').catch((caught: unknown) => caught)
      expect(problemSlug((read as NotFoundError).type)).toBe('user-not-found')
      const steal = () =>
        h.ledger
          .completeUsage(other.id, {
            transaction_id: transactionId,
            success: true,
            finalized_tokens: {},
          })
          .catch((caught: unknown) => caught)
      expect(problemSlug(((await steal()) as NotFoundError).type)).toBe('transaction-not-found')
      await expect(h.ledger.getTransaction(other.id, transactionId)).rejects.toBeInstanceOf(
        NotFoundError,
      )
      expect((await h.ledger.listTransactions(other.id)).data).toEqual([])
      expect((await h.ledger.listUsers(other.id)).data).toEqual([])

      // The same app user id in the other project is a different user with its own credits.
      await h.ledger.createUser(other.id, { user_id: 'shared-id', tier_id: 'monthly' })
      expect(problemSlug(((await steal()) as NotFoundError).type)).toBe('transaction-not-found')
      expect((await h.ledger.getBalance(other.id, 'shared-id')).balance).toBe(100)
      expect(await h.ledger.getBalance(h.projectId, 'shared-id')).toEqual({
        user_id: 'shared-id',
        balance: 95,
        held: 5,
      })
      expect((await h.ledger.verify(h.projectId)).ok).toBe(true)
      expect((await h.ledger.verify(other.id)).ok).toBe(true)
    })
  })
}
