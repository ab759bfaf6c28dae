import { CredlyApiError, MAX_CREDITS } from 'credly'

/**
 * Money is exact: the ledger stores integer micro-credits (one millionth of a credit) and turns
 * them into decimal credits only at its edge.
 */
export const MICRO_PER_CREDIT = 1_000_000

/**
 * `MAX_CREDITS` in micro-credits (1e15). A user's credits stay within plus or minus this, so
 * every intermediate sum of an operation stays far below 2^53 and exact.
 */
export const MAX_MICRO = MAX_CREDITS * MICRO_PER_CREDIT

/** A 400 `out-of-range` problem: an amount past what the ledger holds. Nothing is changed. */
export function outOfRange(detail: string, path: string): CredlyApiError {
  return CredlyApiError.fromKind('out-of-range', detail, {
    errors: [{ path, message: `past the ledger's limit of ${MAX_CREDITS} credits` }],
  })
}

/** Credits (a decimal number with at most six decimals) to integer micro-credits. */
export function toMicro(credits: number): number {
  const micro = Math.round(credits * MICRO_PER_CREDIT)
  if (!Number.isSafeInteger(micro)) throw new RangeError(`${credits} credits is out of range`)
  return micro
}

/** Integer micro-credits to credits, exact to six decimals. */
export function toCredits(micro: number): number {
  // Dividing an integer by 1e6 can print as 0.30000000000000004; rounding to 6 places cannot.
  return Number((micro / MICRO_PER_CREDIT).toFixed(6))
}

/**
 * A BigInt sum of micro-credits as credits. Sums over a project's history can pass 2^53
 * micro-credits even though every balance stays within MAX_CREDITS: exact while the sum fits a
 * double exactly, rounded to whole credits beyond (only a reported figure, never a comparison).
 */
export function sumToCredits(micro: bigint | number): number {
  const value = BigInt(micro)
  if (value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER))
    return toCredits(Number(value))
  return Number(value / BigInt(MICRO_PER_CREDIT))
}
