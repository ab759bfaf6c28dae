import { MAX_CREDITS, type ModelPrice, type TokenCounts } from 'credly'
import { MAX_MICRO, outOfRange } from '../money.ts'

/**
 * What `tokens` cost at `price` (credits per million tokens), in micro-credits, rounded up so a
 * fraction of a micro-credit is never given away; more than `MAX_CREDITS` is an `out-of-range`
 * problem. Cached reads and cache writes are split out of
 * the input tokens, reasoning out of the output tokens, each at its own price (cached reads and
 * writes default to the input price, reasoning to the output price).
 *
 * One credit per million tokens is one micro-credit per token, so the sum is exact in BigInt
 * after scaling each price to an integer count of 1e-6 micro-credits.
 */
export function priceTokens(price: ModelPrice, tokens: TokenCounts | null | undefined): number {
  const scaled = scaledCost(price, tokens)
  // A cost that fits in a double's integers is divided exactly as one (no BigInt per call): the
  // remainder apart, the rest is a multiple of a million, whose quotient is exact.
  const micro =
    typeof scaled === 'number'
      ? (scaled - (scaled % 1_000_000)) / 1_000_000 + (scaled % 1_000_000 > 0 ? 1 : 0)
      : (scaled + 999_999n) / 1_000_000n
  if (micro > MAX_MICRO) {
    throw outOfRange(
      `These token counts cost more than ${MAX_CREDITS} credits at this model's price, the most one call may be charged. Check the token counts sent.`,
      'tokens',
    )
  }
  return Number(micro)
}

/**
 * The most output tokens a call can reserve within `budget` micro-credits, given the rest of its
 * provisional tokens; null when output is free. Priced at the higher of the output and reasoning
 * prices, so a capped call that reasons stays within what it reserved.
 */
export function affordableOutputTokens(
  tieredPrice: ModelPrice,
  tokens: TokenCounts | null | undefined,
  budget: number,
): number | null {
  const price = priceForInput(tieredPrice, tokens?.input_tokens ?? 0)
  const perToken = BigInt(Math.round(Math.max(price.output, price.reasoning ?? 0) * 1e6))
  if (perToken === 0n) return null
  const rest = BigInt(scaledCost(tieredPrice, { ...tokens, output_tokens: 0, reasoning_tokens: 0 }))
  const room = BigInt(Math.max(0, Math.floor(budget))) * 1_000_000n - rest
  if (room <= 0n) return 0
  const affordable = room / perToken
  return affordable > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(affordable)
}

/**
 * The prices a call with `inputTokens` input tokens pays: the base prices, replaced by those of
 * each tier whose threshold it is above (a long prompt's whole call is priced at its tier).
 */
export function priceForInput(price: ModelPrice, inputTokens: number): ModelPrice {
  if (!price.tiers) return price
  let chosen: ModelPrice = { ...price, tiers: undefined }
  for (const { above_input_tokens, ...tierPrices } of price.tiers) {
    if (inputTokens <= above_input_tokens) break
    for (const [field, value] of Object.entries(tierPrices)) {
      if (value !== undefined) chosen = { ...chosen, [field]: value }
    }
  }
  return chosen
}

/**
 * The exact cost of `tokens` in 1e-6 micro-credits (see `priceTokens`): a number while it is a
 * safe integer (every usual call), else a bigint.
 */
function scaledCost(
  tieredPrice: ModelPrice,
  tokens: TokenCounts | null | undefined,
): number | bigint {
  if (!tokens) return 0
  const price = priceForInput(tieredPrice, tokens.input_tokens ?? 0)
  const input = tokens.input_tokens ?? 0
  const cachedInput = tokens.cached_input_tokens ?? 0
  const cacheWrite = tokens.cache_write_tokens ?? 0
  const output = tokens.output_tokens ?? 0
  const reasoning = tokens.reasoning_tokens ?? 0
  const counts = [
    Math.max(0, input - cachedInput - cacheWrite),
    cachedInput,
    cacheWrite,
    Math.max(0, output - reasoning),
    reasoning,
  ]
  const perMillion = [
    price.input,
    price.cached_input ?? price.input,
    price.cache_write ?? price.input,
    price.output,
    price.reasoning ?? price.output,
  ]
  // Counts and prices are integers >= 0 here, so a sum past 2^53 - 1 (inexact) is never rounded
  // back below it: a safe result is exact, and anything else is summed again in BigInt.
  let scaled = 0
  for (let index = 0; index < counts.length; index++)
    scaled += (counts[index] as number) * Math.round((perMillion[index] as number) * 1e6)
  if (Number.isSafeInteger(scaled)) return scaled
  let exact = 0n
  for (let index = 0; index < counts.length; index++)
    exact +=
      BigInt(counts[index] as number) * BigInt(Math.round((perMillion[index] as number) * 1e6))
  return exact
}
