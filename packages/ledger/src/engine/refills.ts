import { configuredTier, type Tier } from 'credly/internal'
import { newId } from '../ids.ts'
import { toMicro } from '../money.ts'
import type { Book } from './book.ts'
import { periodStart, periodsElapsed } from './periods.ts'

/**
 * Grants a new user their tier's credits: once, for a tier without refills, or the first
 * period's allocation (expiring at the next refill under `replace`); never more than fits under
 * `MAX_CREDITS`.
 */
export async function grantInitialTierCredits(
  book: Book,
  tierId: string,
  tier: Tier,
): Promise<void> {
  const refill = tier.refill && tier.refill.every !== 'none' ? tier.refill : undefined
  // A top-up may already fill the user's room: a tier grant adds at most what fits.
  const allocation = Math.min(toMicro(tier.credits), book.room)
  if (allocation === 0) return
  const expiresAt =
    refill?.policy === 'replace' && refill.every !== 'none'
      ? periodStart(book.user.refill_anchor, refill.every, book.user.refills_applied + 1)
      : null
  await book.addBucket(
    {
      id: newId('refill'),
      kind: 'refill',
      credits: allocation,
      expires_at: expiresAt,
      reason: `tier ${tierId}`,
      created_at: book.now,
    },
    'refill',
    { tier_id: tierId, period: book.user.refills_applied },
  )
}

/**
 * Applies every refill that fell due since the last one, lazily, on access. After a long idle
 * time it catches up in one step: `replace` grants the current period's allocation (the old
 * ones expired at their own refill), `add` grants one allocation per missed period, and
 * `rollover` the same up to `max_balance` of unspent tier credits.
 */
export async function applyDueRefills(book: Book): Promise<void> {
  const tierId = book.user.tier_id
  const tier = configuredTier(book.config, tierId)
  const refill = tier?.refill
  if (!tier || !refill || refill.every === 'none') return
  const elapsed = periodsElapsed(book.user.refill_anchor, refill.every, book.now)
  const due = elapsed - book.user.refills_applied
  if (due <= 0) return
  const allocation = toMicro(tier.credits)
  let credits: number
  let expiresAt: number | null = null
  if (refill.policy === 'replace') {
    credits = allocation
    expiresAt = periodStart(book.user.refill_anchor, refill.every, elapsed + 1)
  } else {
    credits = allocation * due
    if (refill.max_balance !== undefined) {
      const tierLeft = (await book.spendableBuckets())
        .filter((bucket) => bucket.kind === 'refill')
        .reduce((sum, bucket) => sum + bucket.remaining, 0)
      credits = Math.max(0, Math.min(credits, toMicro(refill.max_balance) - tierLeft))
    }
  }
  // Never past MAX_CREDITS: a refill adds at most what fits (documented in docs/ledger.md).
  credits = Math.min(credits, book.room)
  book.user.refills_applied = elapsed
  if (credits === 0) return
  await book.addBucket(
    {
      id: newId('refill'),
      kind: 'refill',
      credits,
      expires_at: expiresAt,
      reason: `tier ${tierId} refill`,
      created_at: periodStart(book.user.refill_anchor, refill.every, elapsed),
    },
    'refill',
    { tier_id: tierId, period: elapsed, periods_due: due, policy: refill.policy },
  )
}
