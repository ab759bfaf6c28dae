import {
  type CompleteUsageResponse,
  CredlyApiError,
  configuredPrice,
  configuredTier,
  type ModelPrice,
  type PriceSource,
  type StartUsageResponse,
  type TokenCounts,
} from 'credly/internal'
import { newId } from '../ids.ts'
import { toCredits, toMicro } from '../money.ts'
import type { TransactionRow } from '../stores/store.ts'
import type { Book } from './book.ts'
import { expireBuckets, returnHoldPart, spendFromBuckets } from './bucket-spending.ts'
import { CATALOG_PACKAGE, catalogPrice } from './catalog.ts'
import { windowMs } from './periods.ts'
import { affordableOutputTokens, priceTokens } from './pricing.ts'
import { applyDueRefills } from './refills.ts'

export type StartInput = {
  user_id: string
  model: string
  provisional_tokens?: TokenCounts | undefined
  feature_identifier?: string | undefined
  provider?: string | undefined
}

export type CompleteInput = {
  success: boolean
  finalized_tokens: TokenCounts
  estimated?: boolean | undefined
}

/**
 * Brings a user up to date before anything else touches them: settles reservations whose TTL
 * passed, expires buckets whose expiry passed, and applies refills that fell due. This is why
 * no scheduler is needed for correctness; the sweeper only does it ahead of time.
 */
export async function settleDue(book: Book): Promise<void> {
  // The row says when the user is next due (kept at every flush), so most operations skip this.
  if (book.user.next_event_at === null || book.user.next_event_at > book.now) return
  for (const transaction of await book.tx.listExpiredPending(book.user.ref, book.now)) {
    await expireReservation(book, transaction)
  }
  await expireBuckets(book)
  await applyDueRefills(book)
}

/**
 * The price of a model: the project's `models` first, then (with `pricing.catalog` on) the price
 * catalog for the provider that serves it; else a clear error, never a price of zero.
 */
export async function modelPrice(
  book: Book,
  model: string,
  provider: string | undefined,
): Promise<{ price: ModelPrice; source: PriceSource }> {
  const configured = configuredPrice(book.config, model)
  if (configured) return { price: configured, source: { from: 'config' } }
  const pricing = book.config.pricing
  if (pricing?.catalog) {
    const found = await catalogPrice(pricing, model, provider, book.now)
    if (found) return found
  }
  const known = Object.keys(book.config.models ?? {})
  throw CredlyApiError.fromKind(
    'unknown-model',
    pricing?.catalog
      ? `Model "${model}"${provider ? ` (provider "${provider}")` : ''} is neither under "models" in the project config nor in the price catalog (${CATALOG_PACKAGE}). Price it under "models" (credits per million tokens), or check the model id.`
      : `Model "${model}" has no price in this project. Add it under "models" in the project config${
          known.length > 0 ? ` (priced now: ${known.slice(0, 10).join(', ')})` : ''
        }, or price every known model from the catalog with "pricing": {"catalog": true, "credits_per_usd": 1000}.`,
    { errors: [{ path: 'model', message: `no price for "${model}"` }] },
  )
}

/**
 * Reserves the price of the provisional tokens if the user's available credits, plus the tier's
 * overdraft, cover it (or, without provisional tokens, if they are above zero) and the tier's
 * rate limit has room. The caller holds the user's lock, so the check and the hold are one atomic
 * step. Either way the answer says how many output tokens the user could afford.
 */
export async function reserve(book: Book, input: StartInput): Promise<StartUsageResponse> {
  const { price, source } = await modelPrice(book, input.model, input.provider)
  const amount = priceTokens(price, input.provisional_tokens)
  const tier = configuredTier(book.config, book.user.tier_id)
  // Who asked for which call: on its transaction, or on its refusal.
  const call = {
    project_id: book.user.project_id,
    user_ref: book.user.ref,
    user_id: book.user.user_id,
    tier_id: book.user.tier_id,
    model: input.model,
    feature_identifier: input.feature_identifier ?? null,
  }
  // What a reservation may take: the available credits, and the tier's overdraft below zero.
  const room = book.user.available + toMicro(tier?.overdraft ?? 0)
  let windowRoom = Number.POSITIVE_INFINITY
  const affordable = () =>
    affordableOutputTokens(price, input.provisional_tokens, Math.min(room, windowRoom))
  // A refusal's message becomes the detail of a 402 or 429 behind its title, so it does not
  // repeat the title ("Insufficient credits: Insufficient credits: ...").
  const refusal = async (
    reason: 'insufficient_credits' | 'rate_limited',
    message: string,
    retryAfter: number | null,
    rateLimit: StartUsageResponse['rate_limit'] = null,
  ): Promise<StartUsageResponse> => {
    // Kept for usage reports: who was refused what, and why.
    await book.tx.insertRefusal({
      ...call,
      reason,
      credits_required: amount,
      at: book.now,
    })
    return {
      transaction_id: null,
      continue: false,
      balance: toCredits(book.user.available),
      credits_used: 0,
      credits_required: toCredits(amount),
      affordable_output_tokens: affordable(),
      message,
      reason,
      retry_after_seconds: retryAfter,
      rate_limit: rateLimit,
    }
  }

  const limit = tier?.rate_limit
  if (limit) {
    const window = windowMs(limit.per)
    const windowStart = Math.floor(book.now / window) * window
    const spent = await book.tx.sumSpendSince(book.user, windowStart)
    const cap = toMicro(limit.credits)
    windowRoom = cap - spent
    if (spent + amount > cap || (amount === 0 && spent >= cap)) {
      const retryAfter = Math.max(1, Math.ceil((windowStart + window - book.now) / 1000))
      return refusal(
        'rate_limited',
        `${input.user_id} used ${toCredits(spent)} of ${limit.credits} credits per ${limit.per}; this call needs ${toCredits(amount)}. Try again in ${retryAfter} s.`,
        retryAfter,
        { limit: limit.credits, window_seconds: window / 1000 },
      )
    }
  }

  if (amount > 0 ? room < amount : room <= 0) {
    return refusal(
      'insufficient_credits',
      `This call needs ${toCredits(amount)} credits; ${input.user_id} has ${toCredits(book.user.available)}${room > book.user.available ? ` (and an overdraft to ${toCredits(book.user.available - room)})` : ''}.`,
      null,
    )
  }

  const id = newId('transaction')
  const affordableOutput = affordable()
  const memo = { model: input.model, price, tokens: input.provisional_tokens ?? null }
  const { parts, uncovered } = await spendFromBuckets(
    book,
    amount,
    `hold:${id}`,
    'reserve',
    id,
    memo,
  )
  if (uncovered > 0) {
    // What the buckets could not cover is within the tier's overdraft (amount <= room, checked
    // above under the user's lock): it is held against debt.
    book.move('reserve', uncovered, 'debt', `hold:${id}`, id, { ...memo, overdraft: true })
    parts.push({ bucket_id: null, amount: uncovered })
  }
  const row: TransactionRow = {
    id,
    ...call,
    status: 'pending',
    reserved: amount,
    used: 0,
    provisional_tokens: input.provisional_tokens ?? null,
    finalized_tokens: null,
    price,
    price_source: source,
    estimated: false,
    created_at: book.now,
    completed_at: null,
    expires_at: book.now + book.config.reservations.ttl_seconds * 1000,
    hold_parts: parts,
    complete_hash: null,
    complete_result: null,
  }
  await book.tx.insertTransaction(row)
  book.noteExpiry(row.expires_at as number)
  return {
    transaction_id: id,
    continue: true,
    balance: toCredits(book.user.available),
    credits_used: toCredits(amount),
    credits_required: toCredits(amount),
    affordable_output_tokens: affordableOutput,
    message: amount > 0 ? `Reserved ${toCredits(amount)} credits.` : 'Allowed; nothing reserved.',
    reason: null,
    retry_after_seconds: null,
  }
}

/**
 * Settles a pending reservation with what the call used: charges it from the hold, returns the
 * rest, and charges any excess from the buckets and then as debt (the balance may go below zero,
 * so the next start is refused). `success: false` is charged the same way for the tokens given.
 */
export async function settle(
  book: Book,
  transaction: TransactionRow,
  input: CompleteInput,
  requestHash: string,
): Promise<CompleteUsageResponse> {
  const used = priceTokens(transaction.price, input.finalized_tokens)
  // Every charge entry names the price and tokens it was computed from.
  const memo = {
    model: transaction.model,
    price: transaction.price,
    tokens: input.finalized_tokens,
  }
  let toCharge = Math.min(used, transaction.reserved)
  for (const part of transaction.hold_parts) {
    const charged = Math.min(part.amount, toCharge)
    if (charged > 0)
      book.move('charge', charged, `hold:${transaction.id}`, 'spent', transaction.id, memo)
    toCharge -= charged
    await returnHoldPart(book, part, part.amount - charged, transaction.id)
  }
  const extra = used - transaction.reserved
  if (extra > 0) {
    const { uncovered } = await spendFromBuckets(book, extra, 'spent', 'charge', transaction.id)
    if (uncovered > 0)
      book.move('charge', uncovered, 'debt', 'spent', transaction.id, { overrun: true })
  }
  const result: CompleteUsageResponse = {
    transaction_id: transaction.id,
    credits_used: toCredits(used),
    balance: toCredits(book.user.available),
    balanceAdjustment: toCredits(transaction.reserved - used),
  }
  await book.tx.updateTransaction({
    ...transaction,
    status: input.success ? 'completed' : 'failed',
    used,
    finalized_tokens: input.finalized_tokens,
    estimated: input.estimated ?? false,
    completed_at: book.now,
    expires_at: null,
    complete_hash: requestHash,
    complete_result: result,
  })
  return result
}

/**
 * Resolves a reservation nobody completed in time, by the project's `on_expire` policy: `charge`
 * charges the reserved credits (the call probably ran), `release` returns them.
 */
export async function expireReservation(
  book: Book,
  transaction: TransactionRow,
  policy: 'charge' | 'release' = book.config.reservations.on_expire,
): Promise<void> {
  for (const part of transaction.hold_parts) {
    if (policy === 'charge') {
      book.move('charge', part.amount, `hold:${transaction.id}`, 'spent', transaction.id, {
        expired: true,
      })
    } else {
      await returnHoldPart(book, part, part.amount, transaction.id)
    }
  }
  await book.tx.updateTransaction({
    ...transaction,
    status: 'expired',
    used: policy === 'charge' ? transaction.reserved : 0,
    completed_at: book.now,
    expires_at: null,
    complete_result: { expired: true, policy },
  })
}

/** A 409 for a transaction that is no longer pending. */
export function notPending(transaction: TransactionRow): CredlyApiError {
  return CredlyApiError.fromKind(
    'transaction-conflict',
    transaction.status === 'expired'
      ? `Transaction ${transaction.id} expired before it was completed (its hold was settled by the project's on_expire policy). Extend long-running reservations with extendUsageTransaction.`
      : `Transaction ${transaction.id} was already ${transaction.status} with a different body.`,
  )
}
