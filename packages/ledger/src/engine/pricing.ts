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
  const micro = (scaledCost(price, tokens) + 999_999n) / 1_000_000n
  if (micro > BigInt(MAX_MICRO)) {
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
  const rest = scaledCost(tieredPrice, { ...tokens, output_tokens: 0, reasoning_tokens: 0 })
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

/** The exact cost of `tokens` in 1e-6 micro-credits (see `priceTokens`). */
function scaledCost(tieredPrice: ModelPrice, tokens: TokenCounts | null | undefined): bigint {
  if (!tokens) return 0n
  const price = priceForInput(tieredPrice, tokens.input_tokens ?? 0)
  const input = tokens.input_tokens ?? 0
  const cachedInput = tokens.cached_input_tokens ?? 0
  const cacheWrite = tokens.cache_write_tokens ?? 0
  const output = tokens.output_tokens ?? 0
  const reasoning = tokens.reasoning_tokens ?? 0
  const parts: Array<[number, number]> = [
    [Math.max(0, input - cachedInput - cacheWrite), price.input],
    [cachedInput, price.cached_input ?? price.input],
    [cacheWrite, price.cache_write ?? price.input],
    [Math.max(0, output - reasoning), price.output],
    [reasoning, price.reasoning ?? price.output],
  ]
  let scaled = 0n
  for (const [count, perMillion] of parts) {
    if (count > 0) scaled += BigInt(count) * BigInt(Math.round(perMillion * 1e6))
  }
  return scaled
}
