import {
  ConflictError,
  type CredlyClient,
  InsufficientCreditsError,
  NotFoundError,
  type ProjectConfigInput,
  problemSlug,
  problemType,
  ValidationError,
} from 'credly'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'

/**
 * What every `CredlyClient` does the same, whether it talks HTTP to a server or holds the ledger
 * in the process: run against both, as the store contract runs against both stores.
 */

/** The project the contract meters into: the prices and tiers its numbers assume. */
export const contractConfig = {
  models: {
    // Credits per million tokens.
    'gpt-4o': { input: 2.5, cached_input: 1.25, output: 10 },
    // One credit per token, for round numbers.
    unit: { input: 1_000_000, output: 1_000_000 },
  },
  tiers: {
    free: { credits: 100 },
    monthly: { credits: 100, refill: { every: 'month', policy: 'replace' } },
    pro: { credits: 5000 },
  },
  default_tier: 'free',
} satisfies ProjectConfigInput

/** A client over a fresh project with `contractConfig`, and its ledger's check. */
export type ClientUnderTest = {
  client: CredlyClient
  /** The ledger's verify(): every balance recomputed from the journal. */
  verify(): Promise<{ ok: boolean }>
  close(): Promise<void>
}

// gpt-4o costs 10 credits per million output tokens.
const oneCreditOfOutput = { output_tokens: 100_000 }

export function clientContractSuite(name: string, open: () => Promise<ClientUnderTest>): void {
  describe(`the client contract: ${name}`, () => {
    let under: ClientUnderTest
    let client: CredlyClient
    beforeEach(async () => {
      under = await open()
      client = under.client
    })
    afterEach(async () => {
      expect((await under.verify()).ok).toBe(true)
      await under.close()
    })

    it('users, balance, grants, tiers and deletion', async () => {
      expect(
        await client.createUser({ user_id: 'ann', metadata: { email: 'ann@example.com' } }),
      ).toMatchObject({ user_id: 'ann', tier_id: 'free', balance: 100 })
      await client.createUser({ user_id: 'bob', tier_id: 'monthly' })
      expect((await client.getUser('bob')).next_refill_at).not.toBeNull()
      const page = await client.getUsers({ limit: 1 })
      expect(page.data.map((user) => user.user_id)).toEqual(['ann'])
      expect(
        (await client.getUsers({ cursor: page.next_cursor ?? undefined })).data.map(
          (user) => user.user_id,
        ),
      ).toEqual(['bob'])
      const grant = await client.grantCredits({ user_id: 'ann', credits: 2.5, reason: 'promo' })
      expect(grant).toMatchObject({ credits: 2.5, remaining: 2.5, reason: 'promo' })
      expect(await client.getBalance('ann')).toEqual({ user_id: 'ann', balance: 102.5, held: 0 })
      expect(
        await client.changeUserTier({ user_id: 'ann', tier_id: 'monthly', reset_balance: true }),
      ).toMatchObject({ tier_id: 'monthly', balance: 102.5 })
      // Without a tier: back to the default one.
      expect(await client.changeUserTier({ user_id: 'ann' })).toMatchObject({ tier_id: 'free' })
      expect(await client.deleteUser('bob')).toEqual({ user_id: 'bob', deleted: true })
      await expect(client.getUser('bob')).rejects.toBeInstanceOf(NotFoundError)
    })

    it('start, extend, complete, the history and a usage report', async () => {
      await client.createUser({ user_id: 'ann' })
      const start = await client.startUsageTransaction({
        user_id: 'ann',
        model: 'gpt-4o',
        provisional_tokens: { input_tokens: 1_000_000, output_tokens: 1_000_000 },
        feature_identifier: 'chat',
      })
      expect(start).toMatchObject({ continue: true, credits_used: 12.5, balance: 87.5 })
      if (!start.continue) throw new Error(start.message)
      const id = start.transaction_id
      expect(
        (await client.extendUsageTransaction({ transaction_id: id, ttl_seconds: 120 })).status,
      ).toBe('pending')
      const done = await client.completeUsageTransaction({
        transaction_id: id,
        success: true,
        finalized_tokens: {
          input_tokens: 1_000_000,
          cached_input_tokens: 400_000,
          output_tokens: 100_000,
        },
      })
      // 600k * 2.5 + 400k * 1.25 + 100k * 10 = 1.5 + 0.5 + 1
      expect(done).toEqual({
        transaction_id: id,
        credits_used: 3,
        balance: 97,
        balanceAdjustment: 9.5,
      })
      expect(await client.getTransaction(id)).toMatchObject({
        status: 'completed',
        credits_used: 3,
        feature_identifier: 'chat',
        price_source: { from: 'config' },
      })
      expect(
        (await client.getTransactions({ user_id: 'ann', status: 'completed' })).data.map(
          (t) => t.id,
        ),
      ).toEqual([id])
      const usage = await client.getUsage({ group_by: ['model'] })
      expect(usage.data).toMatchObject([
        { model: 'gpt-4o', calls: 1, credits_charged: 3, credits_refunded: 9.5 },
      ])
    })

    it('charges the extra when usage exceeds the reservation (negative adjustment)', async () => {
      await client.createUser({ user_id: 'erin' })
      const start = await client.startUsageTransaction({
        user_id: 'erin',
        model: 'gpt-4o',
        provisional_tokens: { output_tokens: 100_000 },
      })
      const complete = await client.completeUsageTransaction({
        transaction_id: start.transaction_id as string,
        success: true,
        finalized_tokens: { output_tokens: 300_000 },
      })
      expect(complete).toMatchObject({ credits_used: 3, balance: 97, balanceAdjustment: -2 })
    })

    it('refuses a start the balance cannot cover, holding nothing', async () => {
      await client.createUser({ user_id: 'finn' })
      const start = await client.startUsageTransaction({
        user_id: 'finn',
        model: 'unit',
        provisional_tokens: { input_tokens: 101 },
      })
      expect(start).toMatchObject({
        continue: false,
        transaction_id: null,
        reason: 'insufficient_credits',
        balance: 100,
      })
      expect(await client.getBalance('finn')).toEqual({ user_id: 'finn', balance: 100, held: 0 })
    })

    it('returns the first result for a repeated complete and refuses a different body', async () => {
      await client.createUser({ user_id: 'gus' })
      const start = await client.startUsageTransaction({ user_id: 'gus', model: 'gpt-4o' })
      const body = {
        transaction_id: start.transaction_id as string,
        success: true,
        finalized_tokens: { input_tokens: 10, output_tokens: 10 },
      }
      const first = await client.completeUsageTransaction(body)
      expect(await client.completeUsageTransaction(body)).toEqual(first)
      const conflict = await client
        .completeUsageTransaction({ ...body, finalized_tokens: { input_tokens: 99 } })
        .catch((error: unknown) => error)
      expect(conflict).toBeInstanceOf(ConflictError)
      expect((conflict as ConflictError).type).toBe(problemType('transaction-conflict'))
    })

    it('filters and pages transactions', async () => {
      await client.createUser({ user_id: 'hana' })
      await client.createUser({ user_id: 'ivan' })
      for (const feature of ['chat', 'chat', 'summarize']) {
        await client.startUsageTransaction({
          user_id: 'hana',
          model: 'gpt-4o',
          feature_identifier: feature,
        })
      }
      await client.startUsageTransaction({ user_id: 'ivan', model: 'gpt-4o' })

      const chat = await client.getTransactions({ user_id: 'hana', feature_identifier: 'chat' })
      expect(chat.data).toHaveLength(2)
      expect(chat.data.every((transaction) => transaction.feature_identifier === 'chat')).toBe(true)

      const firstPage = await client.getTransactions({ user_id: 'hana', limit: 2 })
      expect(firstPage.has_more).toBe(true)
      const secondPage = await client.getTransactions({
        user_id: 'hana',
        limit: 2,
        cursor: firstPage.next_cursor as string,
      })
      const ids = [...firstPage.data, ...secondPage.data].map((transaction) => transaction.id)
      expect(new Set(ids).size).toBe(3)
      expect(secondPage.has_more).toBe(false)
    })

    it("takes the original package's { id } forms", async () => {
      expect(await client.createUser({ id: 'ann', tier_id: 'pro' })).toMatchObject({
        user_id: 'ann',
        balance: 5000,
      })
      expect(await client.getUser({ id: 'ann' })).toMatchObject({ tier_id: 'pro' })
      expect(await client.getBalance({ user_id: 'ann' })).toMatchObject({ balance: 5000 })
      const start = await client.startUsageTransaction({ user_id: 'ann', model: 'gpt-4o' })
      if (!start.continue) throw new Error(start.message)
      expect(await client.getTransaction({ id: start.transaction_id })).toMatchObject({
        status: 'pending',
      })
      const wrong = await client.getUser({ name: 'ann' } as never).catch((error: unknown) => error)
      expect(ValidationError.isInstance(wrong)).toBe(true)
      expect((wrong as ValidationError).detail).toContain("getUser({ id: 'user_42' })")
      expect(await client.deleteUser({ id: 'ann' })).toEqual({ user_id: 'ann', deleted: true })
    })

    it('throws the same error classes, with the problem kind and its fields', async () => {
      await client.createUser({ user_id: 'ann' })
      const unknown = await client
        .startUsageTransaction({ user_id: 'ann', model: 'nope' })
        .catch((error: unknown) => error)
      expect(unknown).toBeInstanceOf(ValidationError)
      expect(problemSlug((unknown as ValidationError).type)).toBe('unknown-model')
      expect((unknown as ValidationError).errors).toEqual([
        { path: 'model', message: 'no price for "nope"' },
      ])
      await expect(
        client.startUsageTransaction({
          user_id: 'ann',
          model: 'gpt-4o',
          provisional_tokens: { input_tokens: 1.5 },
        }),
      ).rejects.toBeInstanceOf(ValidationError)
      await expect(client.createUser({ user_id: 'ann' })).rejects.toBeInstanceOf(ConflictError)
      await expect(client.getUser('missing')).rejects.toBeInstanceOf(NotFoundError)
      await expect(client.getTransaction('txn_missing')).rejects.toBeInstanceOf(NotFoundError)
    })

    describe('captureUsage', () => {
      it('executed_success: creates the user, runs the call and settles what it used', async () => {
        let ran = 0
        const outcome = await client.captureUsage({
          user_id: 'new-user',
          model: 'gpt-4o',
          provisional_tokens: { output_tokens: 500_000 },
          feature_identifier: 'chat',
          execute: async () => {
            ran++
            return { text: 'hello', usage: oneCreditOfOutput }
          },
          finalizeTokens: (result) => result.usage,
        })
        expect(ran).toBe(1)
        expect(outcome).toMatchObject({
          status: 'executed_success',
          result: { text: 'hello' },
          credits_used: 1,
          balance: 99,
          balanceAdjustment: 4,
        })
        if (outcome.status !== 'executed_success') throw new Error('unreachable')
        expect(await client.getTransaction(outcome.transaction_id)).toMatchObject({
          status: 'completed',
          feature_identifier: 'chat',
          credits_used: 1,
        })
        expect(await client.getBalance('new-user')).toEqual({
          user_id: 'new-user',
          balance: 99,
          held: 0,
        })
      })

      it('insufficient_credits: refuses without running the call', async () => {
        await client.createUser({ user_id: 'poor' })
        let ran = false
        const outcome = await client.captureUsage({
          user_id: 'poor',
          model: 'unit',
          provisional_tokens: { input_tokens: 1_000 },
          execute: () => {
            ran = true
          },
          finalizeTokens: () => ({}),
        })
        expect(ran).toBe(false)
        expect(outcome).toMatchObject({
          status: 'insufficient_credits',
          continue: false,
          transaction_id: null,
          reason: 'insufficient_credits',
          balance: 100,
          credits_required: 1000,
        })
      })

      it('executed_error: completes as failed (refunding the hold) and returns the error', async () => {
        const failure = new Error('provider down')
        const outcome = await client.captureUsage({
          user_id: 'u-error',
          model: 'gpt-4o',
          provisional_tokens: oneCreditOfOutput,
          execute: async () => {
            throw failure
          },
          finalizeTokens: () => oneCreditOfOutput,
        })
        expect(outcome).toMatchObject({
          status: 'executed_error',
          error: failure,
          credits_used: 0,
          balance: 100,
        })
        if (outcome.status !== 'executed_error') throw new Error('unreachable')
        expect((await client.getTransaction(outcome.transaction_id)).status).toBe('failed')
      })

      it('executed_error: charges the tokens errorTokens reports for a failed call', async () => {
        const outcome = await client.captureUsage({
          user_id: 'u-partial',
          model: 'gpt-4o',
          provisional_tokens: { output_tokens: 200_000 },
          execute: async () => {
            throw new Error('stream broke half way')
          },
          finalizeTokens: () => ({}),
          errorTokens: () => oneCreditOfOutput,
        })
        expect(outcome).toMatchObject({
          status: 'executed_error',
          credits_used: 1,
          balance: 99,
          balanceAdjustment: 1,
        })
      })

      it('rethrowOnError: completes as failed, then throws the original error', async () => {
        const failure = new Error('boom')
        await expect(
          client.captureUsage({
            user_id: 'u-rethrow',
            model: 'gpt-4o',
            provisional_tokens: oneCreditOfOutput,
            execute: () => Promise.reject(failure),
            finalizeTokens: () => ({}),
            rethrowOnError: true,
          }),
        ).rejects.toBe(failure)
        const [transaction] = (await client.getTransactions({ user_id: 'u-rethrow' })).data
        expect(transaction?.status).toBe('failed')
        expect(await client.getBalance('u-rethrow')).toEqual({
          user_id: 'u-rethrow',
          balance: 100,
          held: 0,
        })
      })

      it('start_failed: an invalid start or an unknown model never runs the call', async () => {
        let ran = false
        const invalid = await client.captureUsage({
          user_id: 'u-bad',
          model: 'gpt-4o',
          provisional_tokens: { input_tokens: -5 },
          execute: () => {
            ran = true
          },
          finalizeTokens: () => ({}),
        })
        expect(invalid.status).toBe('start_failed')
        if (invalid.status !== 'start_failed') throw new Error('unreachable')
        expect(invalid.error).toBeInstanceOf(ValidationError)
        const unknown = await client.captureUsage({
          user_id: 'u-model',
          model: 'no-such-model',
          execute: () => {
            ran = true
          },
          finalizeTokens: () => ({}),
        })
        expect(unknown.status).toBe('start_failed')
        if (unknown.status !== 'start_failed') throw new Error('unreachable')
        expect((unknown.error as ValidationError).detail).toContain('no-such-model')
        expect(ran).toBe(false)
      })

      it('does not confuse an InsufficientCreditsError thrown by execute with a refused start', async () => {
        const outcome = await client.captureUsage({
          user_id: 'u-nested',
          model: 'gpt-4o',
          execute: () => Promise.reject(new InsufficientCreditsError({ balance: 0, required: 1 })),
          finalizeTokens: () => ({}),
        })
        expect(outcome.status).toBe('executed_error')
      })
    })
  })
}
