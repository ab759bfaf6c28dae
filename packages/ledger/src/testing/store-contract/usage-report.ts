import { ValidationError } from 'credly'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type LedgerHarness, openHarness, type StoreFactory, verifyAndClose } from '../harness.ts'

const DAY = 86_400_000

/**
 * Usage reports add up the ledger's own records (transactions and refused starts), the same on
 * every store: calls, credits charged and refunded, tokens by kind, refusals, grouped.
 */
export function usageReportSuite(factory: StoreFactory): void {
  describe('usage reports', () => {
    let h: LedgerHarness
    const day1 = '2026-01-31'
    const day2 = '2026-02-01'
    beforeEach(async () => {
      h = await openHarness(factory) // the clock starts at 2026-01-31T12:00Z
      const { ledger, projectId } = h
      await ledger.createUser(projectId, { user_id: 'ann' }) // free: 100 credits
      await ledger.createUser(projectId, { user_id: 'bob', tier_id: 'limited' }) // 50 a minute
      const complete = (id: string | null, finalized_tokens: object) =>
        ledger.completeUsage(projectId, {
          transaction_id: id as string,
          success: true,
          finalized_tokens,
        })

      // Day 1: two calls of ann's, a refusal for each reason.
      const chat = await ledger.startUsage(projectId, {
        user_id: 'ann',
        model: 'unit',
        feature_identifier: 'chat',
        provisional_tokens: { output_tokens: 10 },
      })
      await complete(chat.transaction_id, { input_tokens: 3, output_tokens: 5 }) // 8, refunds 2
      h.clock.advance(60_000)
      const search = await ledger.startUsage(projectId, {
        user_id: 'ann',
        model: 'o4-mini',
        feature_identifier: 'search',
      })
      // 800k input at 1.1 + 200k cache writes at 2 + 60k output at 4.4 + 40k reasoning at 8.8
      await complete(search.transaction_id, {
        input_tokens: 1_000_000,
        cache_write_tokens: 200_000,
        output_tokens: 100_000,
        reasoning_tokens: 40_000,
      }) // 1.896
      const broke = await ledger.startUsage(projectId, {
        user_id: 'ann',
        model: 'unit',
        provisional_tokens: { output_tokens: 200 },
      })
      expect(broke.reason).toBe('insufficient_credits')
      const limited = await ledger.startUsage(projectId, {
        user_id: 'bob',
        model: 'unit',
        provisional_tokens: { output_tokens: 60 },
      })
      expect(limited.reason).toBe('rate_limited')

      // Day 2: one settled call of bob's, one of ann's still pending.
      h.clock.advance(DAY)
      const bobs = await ledger.startUsage(projectId, {
        user_id: 'bob',
        model: 'unit',
        provisional_tokens: { output_tokens: 20 },
      })
      await complete(bobs.transaction_id, { output_tokens: 20 })
      await ledger.startUsage(projectId, {
        user_id: 'ann',
        model: 'unit',
        provisional_tokens: { output_tokens: 5 },
      })
    })
    afterEach(() => verifyAndClose(h))

    it('adds up a range: calls, credits, tokens by kind and refusals', async () => {
      const report = await h.ledger.getUsage(h.projectId, {
        from: `${day1}T00:00:00.000Z`,
        to: '2026-02-02T00:00:00.000Z',
      })
      expect(report).toEqual({
        from: `${day1}T00:00:00.000Z`,
        to: '2026-02-02T00:00:00.000Z',
        group_by: [],
        data: [expect.objectContaining({ calls: 4 })],
        totals: {
          calls: 4,
          credits_charged: 29.896,
          credits_refunded: 2,
          tokens: {
            input: 1_000_003,
            cached_input: 0,
            cache_write: 200_000,
            output: 100_025,
            reasoning: 40_000,
          },
          refusals: { insufficient_credits: 1, rate_limited: 1 },
        },
      })
    })

    it('groups by day, model, user, tier and feature, and filters', async () => {
      const range = { from: `${day1}T00:00:00.000Z`, to: '2026-02-02T00:00:00.000Z' }
      const byDay = await h.ledger.getUsage(h.projectId, { ...range, group_by: ['day'] })
      expect(
        byDay.data.map(({ day, calls, credits_charged, refusals }) => ({
          day,
          calls,
          credits_charged,
          refusals,
        })),
      ).toEqual([
        {
          day: day1,
          calls: 2,
          credits_charged: 9.896,
          refusals: { insufficient_credits: 1, rate_limited: 1 },
        },
        {
          day: day2,
          calls: 2,
          credits_charged: 20,
          refusals: { insufficient_credits: 0, rate_limited: 0 },
        },
      ])

      const byModelAndUser = await h.ledger.getUsage(h.projectId, {
        ...range,
        group_by: ['model', 'user'],
      })
      expect(
        byModelAndUser.data.map(({ model, user_id, calls, credits_charged, refusals }) => [
          model,
          user_id,
          calls,
          credits_charged,
          refusals.insufficient_credits + refusals.rate_limited,
        ]),
      ).toEqual([
        ['o4-mini', 'ann', 1, 1.896, 0],
        ['unit', 'ann', 2, 8, 1],
        ['unit', 'bob', 1, 20, 1],
      ])

      const byTier = await h.ledger.getUsage(h.projectId, { ...range, group_by: ['tier'] })
      expect(byTier.data.map(({ tier_id, calls }) => [tier_id, calls])).toEqual([
        ['free', 3],
        ['limited', 1],
      ])
      const byFeature = await h.ledger.getUsage(h.projectId, { ...range, group_by: ['feature'] })
      expect(
        byFeature.data.map(({ feature_identifier, calls }) => [feature_identifier, calls]),
      ).toEqual([
        [null, 2],
        ['chat', 1],
        ['search', 1],
      ])

      const ann = await h.ledger.getUsage(h.projectId, { ...range, user_id: 'ann' })
      expect(ann.totals).toMatchObject({
        calls: 3,
        credits_charged: 9.896,
        refusals: { insufficient_credits: 1, rate_limited: 0 },
      })
      const dayOne = await h.ledger.getUsage(h.projectId, {
        from: `${day1}T00:00:00.000Z`,
        to: `${day2}T00:00:00.000Z`,
        interval: 'hour',
        model: 'unit',
      })
      expect(dayOne.data.map(({ hour, calls }) => [hour, calls])).toEqual([
        [`${day1}T12:00:00.000Z`, 1],
      ])
    })

    it('adds up past days from their totals exactly as call by call, and a pending call keeps its day live', async () => {
      // Day 2's call of ann's is still pending; it settles three days later, after a report.
      const range = { from: `${day1}T00:00:00.000Z`, to: '2026-02-10T00:00:00.000Z' }
      const pending = (
        await h.ledger.listTransactions(h.projectId, { status: 'pending', user_id: 'ann' })
      ).data[0]
      // Kept alive for three days, as a long stream's reservation is.
      for (let i = 0; i < 4; i++) {
        await h.ledger.extendUsage(h.projectId, {
          transaction_id: pending?.id as string,
          ttl_seconds: 86_400,
        })
        h.clock.advance(20 * 3_600_000)
      }
      // The sweeper writes the totals of days that ended (not of the one with a pending call),
      // once.
      expect((await h.ledger.sweep()).usage_days).toBeGreaterThan(0)
      expect((await h.ledger.sweep()).usage_days).toBe(0)
      // By day and model (from day totals where a day is summarized) and by user and hour (always
      // call by call): the same figures.
      const summed = (report: { totals: object }) => report.totals
      const byDay = await h.ledger.getUsage(h.projectId, { ...range, group_by: ['day', 'model'] })
      const byHour = await h.ledger.getUsage(h.projectId, { ...range, group_by: ['hour', 'user'] })
      expect(summed(byDay)).toEqual(summed(byHour))
      expect(byDay.totals.calls).toBe(4)
      // The pending call settles: its day is still read call by call, so the report has it.
      await h.ledger.completeUsage(h.projectId, {
        transaction_id: pending?.id as string,
        success: true,
        finalized_tokens: { output_tokens: 3 },
      })
      const after = await h.ledger.getUsage(h.projectId, { ...range, group_by: ['day'] })
      expect(after.totals.credits_charged).toBe(byDay.totals.credits_charged + 3)
      expect(after.totals.credits_refunded).toBe(byDay.totals.credits_refunded + 2)
      expect(after.totals).toEqual(
        (await h.ledger.getUsage(h.projectId, { ...range, group_by: ['user'] })).totals,
      )
      // Asked again (every day now summarized): the same.
      expect((await h.ledger.getUsage(h.projectId, { ...range, group_by: ['day'] })).data).toEqual(
        after.data,
      )
    })

    it('adds up a report by user from whole weeks of per-user totals, exactly as call by call', async () => {
      const { ledger, projectId, store } = h
      const pending = (
        await ledger.listTransactions(projectId, { status: 'pending', user_id: 'ann' })
      ).data[0]
      await ledger.completeUsage(projectId, {
        transaction_id: pending?.id as string,
        success: true,
        finalized_tokens: { output_tokens: 2 },
      })
      // Three more weeks (2026-02-02 is a Monday): a call a day each.
      for (let day = 1; day <= 21; day++) {
        h.clock.advance(DAY)
        for (const [user, tokens] of [
          ['ann', (day % 3) + 1],
          ['bob', 1],
        ] as const) {
          const call = await ledger.startUsage(projectId, {
            user_id: user,
            model: 'unit',
            provisional_tokens: { output_tokens: tokens },
          })
          await ledger.completeUsage(projectId, {
            transaction_id: call.transaction_id as string,
            success: true,
            finalized_tokens: { output_tokens: tokens },
          })
        }
      }
      h.clock.advance(2 * DAY)
      // Mid-week to mid-week: the whole weeks from totals, the ends call by call.
      const range = { from: '2026-01-29T06:00:00.000Z', to: '2026-02-25T18:00:00.000Z' }
      const oneUser = async (user_id: string) =>
        (await ledger.getUsage(projectId, { ...range, user_id })).totals
      const byUser = await ledger.getUsage(projectId, { ...range, group_by: ['user'] })
      expect(byUser.data.map(({ user_id, calls }) => [user_id, calls])).toEqual([
        ['ann', 24],
        ['bob', 22],
      ])
      for (const { user_id, ...figures } of byUser.data)
        expect({ ...figures, refusals: undefined }).toEqual({
          ...(await oneUser(user_id as string)),
          refusals: undefined,
        })
      // Its whole weeks (Monday 2026-02-02 to Monday 2026-02-23) are summarized, once.
      const weeks = {
        from: Date.parse('2026-02-02T00:00:00.000Z'),
        to: Date.parse('2026-02-23T00:00:00.000Z'),
      }
      expect(
        await store.write((tx) => tx.summarizeUsageDays(projectId, weeks.from, weeks.to)),
      ).toEqual({ days: 0, weeks: 0 })
      // And read from: a call of bob's (2026-02-19) changed behind the ledger's back moves the
      // report read call by call, not the one by user.
      const call = (await ledger.listTransactions(projectId, { user_id: 'bob', limit: 5 })).data[3]
      const row = await store.read((tx) => tx.getTransaction(projectId, call?.id as string))
      if (!row) throw new Error('no transaction')
      const bob = byUser.data[1]?.credits_charged as number
      await store.write((tx) => tx.updateTransaction({ ...row, used: row.used + 1_000_000 }))
      const tampered = await ledger.getUsage(projectId, { ...range, group_by: ['user'] })
      const readCallByCall = (await oneUser('bob')).credits_charged
      await store.write((tx) => tx.updateTransaction(row))
      expect(readCallByCall).toBe(bob + 1)
      expect(tampered.data).toEqual(byUser.data)
    })

    it('defaults to the last 30 days, and refuses an empty range', async () => {
      const report = await h.ledger.getUsage(h.projectId)
      expect(Date.parse(report.to)).toBe(h.clock.now() + 1)
      expect(report.totals.calls).toBe(4)
      const error = await h.ledger
        .getUsage(h.projectId, { from: `${day2}T00:00:00.000Z`, to: `${day1}T00:00:00.000Z` })
        .catch((caught: unknown) => caught)
      expect(ValidationError.isInstance(error)).toBe(true)
      const bad = await h.ledger
        .getUsage(h.projectId, { group_by: ['week'] } as never)
        .catch((caught: unknown) => caught)
      expect(ValidationError.isInstance(bad)).toBe(true)
    })
  })
}
