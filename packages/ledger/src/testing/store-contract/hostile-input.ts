import { MAX_CREDITS, problemSlug, ValidationError } from 'credly'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Ledger } from '../../engine/ledger.ts'
import {
  type LedgerHarness,
  openHarness,
  type StoreFactory,
  testConfig,
  verifyAndClose,
} from '../harness.ts'

/** The slug of the problem a call fails with, or `resolved` when it did not fail. */
async function refusal(call: Promise<unknown>): Promise<string | undefined> {
  try {
    await call
    return 'resolved'
  } catch (error) {
    if (!ValidationError.isInstance(error)) throw error
    return problemSlug(error.type)
  }
}

/** Everything a refused request could have changed, to compare before and after. */
async function snapshot(ledger: Ledger, projectId: string) {
  const users = await ledger.listUsers(projectId, { limit: 100 })
  const transactions = await ledger.listTransactions(projectId, { limit: 100 })
  const report = await ledger.verify(projectId)
  return { users: users.data, transactions: transactions.data, totals: report.totals }
}

const DAY = 86_400_000

/**
 * Input an attacker holding a metering key (or a careless admin) can send: amounts past the
 * ledger's range, names of `Object.prototype`'s properties, NUL characters and unpaired
 * surrogates. Each is refused with a clear 400 and changes nothing, the same on every store, and
 * the ledger stays readable and verifiable afterwards.
 */
export function hostileInputSuite(factory: StoreFactory): void {
  describe('hostile input', () => {
    let h: LedgerHarness
    beforeEach(async () => {
      h = await openHarness(factory)
      await h.ledger.createUser(h.projectId, { user_id: 'ann' })
    })
    afterEach(() => verifyAndClose(h))

    it('refuses a complete whose debt would pass MAX_CREDITS, and the user stays readable', async () => {
      // Two starts without provisional tokens both continue (the balance is above zero).
      const first = await h.ledger.startUsage(h.projectId, { user_id: 'ann', model: 'unit' })
      const second = await h.ledger.startUsage(h.projectId, { user_id: 'ann', model: 'unit' })
      // `unit` costs one credit a token: 0.6 * MAX_CREDITS each fits once, not twice.
      const tokens = { output_tokens: 0.6 * MAX_CREDITS }
      const done = await h.ledger.completeUsage(h.projectId, {
        transaction_id: first.transaction_id as string,
        success: true,
        finalized_tokens: tokens,
      })
      expect(done.balance).toBe(100 - 0.6 * MAX_CREDITS)
      const before = await snapshot(h.ledger, h.projectId)
      expect(
        await refusal(
          h.ledger.completeUsage(h.projectId, {
            transaction_id: second.transaction_id as string,
            success: true,
            finalized_tokens: tokens,
          }),
        ),
      ).toBe('out-of-range')
      expect(await snapshot(h.ledger, h.projectId)).toEqual(before)
      expect(
        await h.ledger.getTransaction(h.projectId, second.transaction_id as string),
      ).toMatchObject({ status: 'pending' })
      expect(await h.ledger.getUser(h.projectId, 'ann')).toMatchObject({
        balance: 100 - 0.6 * MAX_CREDITS,
      })
    })

    it('refuses a call priced past MAX_CREDITS at start and at complete', async () => {
      const hostile = { output_tokens: 900_719_925_474_099 }
      const before = await snapshot(h.ledger, h.projectId)
      expect(
        await refusal(
          h.ledger.startUsage(h.projectId, {
            user_id: 'ann',
            model: 'gpt-4o',
            provisional_tokens: hostile,
          }),
        ),
      ).toBe('out-of-range')
      const start = await h.ledger.startUsage(h.projectId, { user_id: 'ann', model: 'gpt-4o' })
      const afterStart = await snapshot(h.ledger, h.projectId)
      expect(
        await refusal(
          h.ledger.completeUsage(h.projectId, {
            transaction_id: start.transaction_id as string,
            success: true,
            finalized_tokens: hostile,
          }),
        ),
      ).toBe('out-of-range')
      expect(await snapshot(h.ledger, h.projectId)).toEqual(afterStart)
      expect(before.users).toEqual(afterStart.users)
    })

    it('grants up to MAX_CREDITS a user, and refuses one credit more without changing anything', async () => {
      await h.ledger.grantCredits(h.projectId, { user_id: 'ann', credits: MAX_CREDITS - 100 })
      expect(await h.ledger.getBalance(h.projectId, 'ann')).toMatchObject({ balance: MAX_CREDITS })
      const before = await snapshot(h.ledger, h.projectId)
      expect(
        await refusal(h.ledger.grantCredits(h.projectId, { user_id: 'ann', credits: 0.000001 })),
      ).toBe('out-of-range')
      expect(
        await refusal(h.ledger.grantCredits(h.projectId, { user_id: 'ann', credits: 9e9 })),
      ).toBe('validation-error')
      expect(await snapshot(h.ledger, h.projectId)).toEqual(before)
      // Held credits count too: a reservation does not make room for more.
      await h.ledger.startUsage(h.projectId, {
        user_id: 'ann',
        model: 'unit',
        provisional_tokens: { output_tokens: 1000 },
      })
      expect(
        await refusal(h.ledger.grantCredits(h.projectId, { user_id: 'ann', credits: 1 })),
      ).toBe('out-of-range')
    })

    it('caps tier refills at MAX_CREDITS instead of failing every later access', async () => {
      await h.ledger.updateProjectConfig(h.projectId, {
        ...testConfig,
        tiers: {
          ...testConfig.tiers,
          whale: { credits: MAX_CREDITS, refill: { every: 'day', policy: 'add' } },
        },
      })
      await h.ledger.createUser(h.projectId, { user_id: 'moby', tier_id: 'whale' })
      // Two daily refills of MAX_CREDITS fall due; the user holds MAX_CREDITS, not three times it.
      h.clock.advance(3 * DAY - 60_000)
      expect(await h.ledger.getBalance(h.projectId, 'moby')).toMatchObject({
        balance: MAX_CREDITS,
      })
      const start = await h.ledger.startUsage(h.projectId, {
        user_id: 'moby',
        model: 'unit',
        provisional_tokens: { output_tokens: 10 },
      })
      expect(start.continue).toBe(true)
      // The third refill falls due while the reservation still holds 10 credits, which count.
      h.clock.advance(120_000)
      expect(await h.ledger.getBalance(h.projectId, 'moby')).toMatchObject({
        balance: MAX_CREDITS - 10,
        held: 10,
      })
      const page = await h.ledger.listUsers(h.projectId)
      expect(page.data.map((user) => user.user_id)).toEqual(['ann', 'moby'])
    })

    it('refuses config amounts past MAX_CREDITS, naming the field', async () => {
      const attempts = [
        { tiers: { big: { credits: 1e10 } } },
        { tiers: { big: { credits: 1e12 } } },
        { tiers: { big: { credits: 10, rate_limit: { credits: 1e300, per: 'hour' } } } },
        {
          tiers: {
            big: {
              credits: 10,
              refill: { every: 'day', policy: 'rollover', max_balance: 1e10 },
            },
          },
        },
        { tiers: { big: { credits: Number.POSITIVE_INFINITY } } },
      ] as const
      for (const tiers of attempts) {
        const error = await h.ledger
          .updateProjectConfig(h.projectId, { models: testConfig.models, ...tiers })
          .then(() => undefined)
          .catch((caught: unknown) => caught)
        expect(ValidationError.isInstance(error), JSON.stringify(tiers)).toBe(true)
        expect((error as ValidationError).errors[0]?.path).toMatch(/^tiers\.big\./)
      }
      expect(Object.keys((await h.ledger.getProject(h.projectId)).config.tiers)).not.toContain(
        'big',
      )
    })

    it("treats names of Object.prototype's properties as unknown models and tiers", async () => {
      const before = await snapshot(h.ledger, h.projectId)
      for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf']) {
        expect(
          await refusal(h.ledger.startUsage(h.projectId, { user_id: 'ann', model: name })),
          name,
        ).toBe('unknown-model')
        expect(
          await refusal(h.ledger.createUser(h.projectId, { user_id: 'bob', tier_id: name })),
          name,
        ).toBe('unknown-tier')
        expect(
          await refusal(h.ledger.changeUserTier(h.projectId, { user_id: 'ann', tier_id: name })),
          name,
        ).toBe('unknown-tier')
      }
      expect(await snapshot(h.ledger, h.projectId)).toEqual(before)
      expect(
        await refusal(
          h.ledger.updateProjectConfig(h.projectId, { ...testConfig, default_tier: 'toString' }),
        ),
      ).toBe('validation-error')
    })

    it('prices and tiers named like built-ins work when the config really has them', async () => {
      await h.ledger.updateProjectConfig(h.projectId, {
        models: { constructor: { input: 1_000_000, output: 1_000_000 } },
        tiers: { toString: { credits: 7 }, valueOf: { credits: 3 } },
        default_tier: 'toString',
      })
      const user = await h.ledger.createUser(h.projectId, { user_id: 'cat' })
      expect(user).toMatchObject({ tier_id: 'toString', balance: 7 })
      const start = await h.ledger.startUsage(h.projectId, {
        user_id: 'cat',
        model: 'constructor',
        provisional_tokens: { output_tokens: 2 },
      })
      expect(start).toMatchObject({ continue: true, credits_used: 2, balance: 5 })
      await h.ledger.completeUsage(h.projectId, {
        transaction_id: start.transaction_id as string,
        success: true,
        finalized_tokens: { output_tokens: 1 },
      })
      expect(
        await h.ledger.changeUserTier(h.projectId, {
          user_id: 'cat',
          tier_id: 'valueOf',
          reset_balance: true,
        }),
      ).toMatchObject({ tier_id: 'valueOf', balance: 3 })
    })

    it('keeps quotes, backslashes and SQL text in every string exactly as sent', async () => {
      // The PostgreSQL store writes values into SQL as quoted literals: each of these must come
      // back as it went in, and change nothing else.
      const values = [
        "O'Brien",
        "it''s",
        'back\\slash \\',
        "\\'; DROP TABLE users; --",
        '$1 ? $$ ?? $tag$',
        "E'x'",
      ]
      for (const [index, value] of values.entries()) {
        const user = await h.ledger.createUser(h.projectId, {
          user_id: value,
          metadata: { [value]: value },
        })
        expect(user).toMatchObject({ user_id: value, metadata: { [value]: value } })
        await h.ledger.grantCredits(h.projectId, { user_id: value, credits: 1, reason: value })
        const start = await h.ledger.startUsage(h.projectId, {
          user_id: value,
          model: 'unit',
          feature_identifier: value,
          provisional_tokens: { input_tokens: 1 },
        })
        await h.ledger.completeUsage(h.projectId, {
          transaction_id: start.transaction_id as string,
          success: true,
          finalized_tokens: { input_tokens: 1 },
        })
        expect(await h.ledger.getUser(h.projectId, value)).toMatchObject({
          user_id: value,
          metadata: { [value]: value },
        })
        const calls = await h.ledger.listTransactions(h.projectId, { user_id: value })
        expect(calls.data.map((call) => [call.user_id, call.feature_identifier])).toEqual([
          [value, value],
        ])
        expect((await h.ledger.getBalance(h.projectId, value)).balance, value).toBe(100)
        expect((await h.ledger.listUsers(h.projectId, { limit: 100 })).data).toHaveLength(index + 2)
      }
      expect((await h.ledger.getBalance(h.projectId, 'ann')).balance).toBe(100)
    })

    it('refuses NUL characters and unpaired surrogates in every string, and compares ids exactly', async () => {
      const before = await snapshot(h.ledger, h.projectId)
      const bad = ['a\u0000b', 'q\ud800', 'q\udc00', '\udfff']
      for (const value of bad) {
        const slugs = [
          await refusal(h.ledger.createUser(h.projectId, { user_id: value })),
          await refusal(h.ledger.getUser(h.projectId, value)),
          await refusal(h.ledger.deleteUser(h.projectId, value)),
          await refusal(h.ledger.startUsage(h.projectId, { user_id: 'ann', model: value })),
          await refusal(
            h.ledger.startUsage(h.projectId, {
              user_id: 'ann',
              model: 'unit',
              feature_identifier: value,
            }),
          ),
          await refusal(
            h.ledger.createUser(h.projectId, { user_id: 'meta', metadata: { note: value } }),
          ),
          await refusal(
            h.ledger.createUser(h.projectId, { user_id: 'meta', metadata: { [value]: 'x' } }),
          ),
          await refusal(
            h.ledger.grantCredits(h.projectId, { user_id: 'ann', credits: 1, reason: value }),
          ),
          await refusal(h.ledger.listTransactions(h.projectId, { user_id: value })),
          await refusal(h.ledger.listUsers(h.projectId, { cursor: value })),
          await refusal(h.ledger.getTransaction(h.projectId, value)),
        ]
        expect(slugs, JSON.stringify(value)).toEqual(slugs.map(() => 'validation-error'))
      }
      expect(await snapshot(h.ledger, h.projectId)).toEqual(before)

      // A pair is fine: it is one character.
      await h.ledger.createUser(h.projectId, { user_id: 'emoji \ud83d\ude00' })
      // Spaces are part of an id: " ann " is another user, and deleting it leaves "ann".
      await h.ledger.createUser(h.projectId, { user_id: ' ann ' })
      await h.ledger.deleteUser(h.projectId, ' ann ')
      expect(await h.ledger.getUser(h.projectId, 'ann')).toMatchObject({ balance: 100 })
      expect((await h.ledger.listUsers(h.projectId)).data.map((user) => user.user_id)).toEqual([
        'ann',
        'emoji \ud83d\ude00',
      ])
    })
  })
}
