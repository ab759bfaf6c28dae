import { problemType, ValidationError } from 'credly'
import { describe, expect, it } from 'vitest'
import { affordableOutputTokens, priceTokens } from './pricing.ts'

describe('priceTokens', () => {
  const gpt4o = { input: 2.5, cached_input: 1.25, output: 10 }

  it('is exact in micro-credits for decimal prices', () => {
    // 0.1 + 0.2 style float error would show up here.
    expect(
      priceTokens(
        { input: 0.1, output: 0.2 },
        { input_tokens: 3_000_000, output_tokens: 3_000_000 },
      ),
    ).toBe(900_000)
    expect(priceTokens({ input: 1.1, output: 4.4 }, { input_tokens: 1_000_003 })).toBe(1_100_004)
  })

  it('prices a long prompt wholly at each tier it is above, field by field', () => {
    const tiered = {
      input: 1,
      output: 10,
      tiers: [
        { above_input_tokens: 100_000, input: 2 },
        { above_input_tokens: 200_000, output: 20 },
      ],
    }
    const call = (input: number) =>
      priceTokens(tiered, { input_tokens: input, output_tokens: 1_000_000 })
    // At the threshold itself the base prices hold; one token more, the tier's.
    expect(call(100_000)).toBe(100_000 + 10_000_000)
    expect(call(100_001)).toBe(200_002 + 10_000_000)
    expect(call(200_001)).toBe(400_002 + 20_000_000)
    // What a call can afford is priced at the tier its input puts it in.
    expect(affordableOutputTokens(tiered, { input_tokens: 200_001 }, 400_002 + 20)).toBe(1)
    expect(affordableOutputTokens(tiered, { input_tokens: 200_000 }, 400_000 + 20)).toBe(2)
  })

  it('rounds a fraction of a micro-credit up', () => {
    expect(priceTokens(gpt4o, { input_tokens: 1 })).toBe(3)
    expect(priceTokens(gpt4o, { input_tokens: 2 })).toBe(5)
  })

  it('splits cached reads out of input and reasoning out of output', () => {
    expect(priceTokens(gpt4o, { input_tokens: 1_000_000, cached_input_tokens: 400_000 })).toBe(
      2_000_000,
    )
    expect(
      priceTokens(
        { input: 1, output: 4, reasoning: 8 },
        { output_tokens: 100, reasoning_tokens: 25 },
      ),
    ).toBe(500)
  })

  it('defaults cached input and cache writes to the input price and reasoning to output', () => {
    expect(
      priceTokens(
        { input: 2, output: 3 },
        {
          input_tokens: 10,
          cached_input_tokens: 4,
          cache_write_tokens: 3,
          output_tokens: 5,
          reasoning_tokens: 5,
        },
      ),
    ).toBe(35)
  })

  it('is exact on both sides of 2^53 (in 1e-6 micro-credits), rounding up', () => {
    // 9007190247 tokens at 1.000001 credits per million: 9007199254190247 (just under 2^53),
    // then one token more: 9007199255190248 (just over it).
    expect(priceTokens({ input: 1.000001, output: 0 }, { input_tokens: 9_007_190_247 })).toBe(
      9_007_199_255,
    )
    expect(priceTokens({ input: 1.000001, output: 0 }, { input_tokens: 9_007_190_248 })).toBe(
      9_007_199_256,
    )
  })

  it('prices no tokens at zero, and a call up to MAX_CREDITS exactly, and refuses more', () => {
    expect(priceTokens(gpt4o, {})).toBe(0)
    expect(priceTokens(gpt4o, null)).toBe(0)
    // 1e12 tokens at 1000 credits per million: exactly MAX_CREDITS, 1e15 micro-credits.
    expect(priceTokens({ input: 1000, output: 1000 }, { input_tokens: 1_000_000_000_000 })).toBe(
      1e15,
    )
    const error = (() => {
      try {
        priceTokens({ input: 1000, output: 0 }, { input_tokens: 1_000_000_000_001 })
      } catch (caught) {
        return caught as ValidationError
      }
    })()
    expect(error).toBeInstanceOf(ValidationError)
    expect(error?.type).toBe(problemType('out-of-range'))
    expect(() =>
      priceTokens({ input: 10, output: 10 }, { output_tokens: 900719925474099 }),
    ).toThrow(/more than 1000000000 credits/)
  })
})
