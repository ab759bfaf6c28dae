import { z } from 'zod'

/**
 * The largest credit amount the ledger holds in one place: one grant, a tier's allocation, a
 * rate limit, one call's charge, a user's credits (available plus held) and a user's debt. In
 * micro-credits that is 1e15, so every sum the ledger makes stays an exact integer.
 */
export const MAX_CREDITS = 1_000_000_000

/** NUL, or a UTF-16 surrogate that is not part of a pair (`u` makes a pair one code point). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is exactly what this refuses.
const unstorable = /[\u0000\uD800-\uDFFF]/u

/**
 * True when a string is stored and compared the same on SQLite and PostgreSQL: no NUL
 * character (PostgreSQL refuses it) and no unpaired surrogate (which would become U+FFFD, so two
 * different ids would name one account).
 */
export function isStorableText(value: string): boolean {
  return !unstorable.test(value)
}

/** A string field: at most `max` characters, storable (see `isStorableText`). */
export function textSchema(name: string, options: { min?: number; max: number }) {
  const min = options.min ?? 0
  return z
    .string({ error: `${name} must be a string` })
    .min(
      min,
      min === 1 ? `${name} must not be empty` : `${name} must be at least ${min} characters`,
    )
    .max(options.max, `${name} must be at most ${options.max} characters`)
    .refine(isStorableText, `${name} must not contain a NUL character or an unpaired surrogate`)
}

/**
 * An id the app chose for its user (e.g. its auth provider's user id), compared exactly as
 * given: `" ann"` and `"ann"` are two users.
 */
export const userIdSchema = textSchema('user_id', { min: 1, max: 255 })

/** A model id as priced in the project config, e.g. `gpt-4o`. */
export const modelIdSchema = textSchema('model', { min: 1, max: 200 })

/** Groups transactions by the app feature that made them, e.g. `chat` or `summarize`. */
export const featureIdentifierSchema = textSchema('feature_identifier', { min: 1, max: 200 })

/** A tier id from the project config, e.g. `free` or `pro`. */
export const tierIdSchema = textSchema('tier_id', { min: 1, max: 100 })

const tokenCount = (name: string) =>
  z
    .number({ error: `${name} must be a number` })
    .int(`${name} must be a whole number of tokens`)
    .nonnegative(`${name} must not be negative`)
    .max(Number.MAX_SAFE_INTEGER)

/**
 * Token counts of one model call. `input_tokens` counts every prompt token, including the cached
 * reads and cache writes that the optional detail fields break out; `output_tokens` counts every
 * generated token, including reasoning tokens. A detail field is priced at its own price when the
 * model's price names one.
 */
export const tokenCountsSchema = z
  .object({
    input_tokens: tokenCount('input_tokens').optional(),
    output_tokens: tokenCount('output_tokens').optional(),
    /** Prompt tokens read from the provider's cache (part of `input_tokens`). */
    cached_input_tokens: tokenCount('cached_input_tokens').optional(),
    /** Prompt tokens written to the provider's cache (part of `input_tokens`). */
    cache_write_tokens: tokenCount('cache_write_tokens').optional(),
    /** Hidden reasoning tokens (part of `output_tokens`). */
    reasoning_tokens: tokenCount('reasoning_tokens').optional(),
  })
  .strict()
  .superRefine((tokens, context) => {
    const cached = (tokens.cached_input_tokens ?? 0) + (tokens.cache_write_tokens ?? 0)
    if (cached > 0 && cached > (tokens.input_tokens ?? 0)) {
      context.addIssue({
        code: 'custom',
        path: ['input_tokens'],
        message:
          'input_tokens must include cached_input_tokens and cache_write_tokens (it is smaller than their sum)',
      })
    }
    const reasoning = tokens.reasoning_tokens ?? 0
    if (reasoning > 0 && reasoning > (tokens.output_tokens ?? 0)) {
      context.addIssue({
        code: 'custom',
        path: ['output_tokens'],
        message: 'output_tokens must include reasoning_tokens (it is smaller than them)',
      })
    }
  })
export type TokenCounts = z.infer<typeof tokenCountsSchema>

/** True when a credit amount is exact in micro-credits, the ledger's minor unit. */
export function hasAtMostSixDecimals(value: number): boolean {
  const micro = value * 1e6
  return Math.abs(micro - Math.round(micro)) < 1e-6 * Math.max(1, Math.abs(micro))
}

/** A credit amount on the wire: a decimal number of credits (stored exactly, in micro-credits). */
export const creditsSchema = z.number().finite()

/** An ISO 8601 timestamp in UTC, e.g. `2026-11-24T18:00:00.000Z`. */
export const timestampSchema = z.iso.datetime({ offset: true })

/** Cursor pagination query shared by list endpoints. */
export const pageQuerySchema = z.object({
  /** How many items per page, 1 to 100. @default 20 */
  limit: z.coerce.number().int().min(1).max(100).optional(),
  /** The `next_cursor` of the previous page. */
  cursor: textSchema('cursor', { min: 1, max: 500 }).optional(),
})
export type PageQuery = z.infer<typeof pageQuerySchema>

/** A page of a list: `next_cursor` is null on the last page. */
export function pageSchema<T extends z.ZodType>(item: T) {
  return z.object({
    data: z.array(item),
    has_more: z.boolean(),
    next_cursor: z.string().nullable(),
  })
}
/** A page of a list: `next_cursor` is null on the last page. */
export type Page<T> = { data: T[]; has_more: boolean; next_cursor: string | null }
