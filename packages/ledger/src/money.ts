/**
 * Money is exact: the ledger stores integer micro-credits (one millionth of a credit) and turns
 * them into decimal credits only at its edge.
 */
export const MICRO_PER_CREDIT = 1_000_000

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
