import { z } from 'zod'

/** An id the app chose for its user (e.g. its auth provider's user id). */
export const userIdSchema = z
  .string({ error: 'user_id must be a string' })
  .trim()
  .min(1, 'user_id must not be empty')
  .max(255, 'user_id must be at most 255 characters')

/** A model id as priced in the project config, e.g. `gpt-4o`. */
export const modelIdSchema = z
  .string({ error: 'model must be a string' })
  .min(1, 'model must not be empty')
  .max(200, 'model must be at most 200 characters')

/** Groups transactions by the app feature that made them, e.g. `chat` or `summarize`. */
export const featureIdentifierSchema = z.string().min(1).max(200)

/** A tier id from the project config, e.g. `free` or `pro`. */
export const tierIdSchema = z.string().min(1).max(100)

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
  cursor: z.string().min(1).max(500).optional(),
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
