import { z } from 'zod'
import { hasAtMostSixDecimals } from './common.ts'

const price = (name: string) =>
  z
    .number({ error: `${name} must be a number of credits per million tokens` })
    .nonnegative(`${name} must not be negative`)
    .max(1e9)
    .refine(hasAtMostSixDecimals, `${name} may have at most six decimals`)

/**
 * A model's price in credits per million tokens. Without `cached_input` or `cache_write`, those
 * tokens cost `input`; without `reasoning`, reasoning tokens cost `output`.
 */
export const modelPriceSchema = z
  .object({
    input: price('input'),
    output: price('output'),
    cached_input: price('cached_input').optional(),
    cache_write: price('cache_write').optional(),
    reasoning: price('reasoning').optional(),
  })
  .strict()
export type ModelPrice = z.infer<typeof modelPriceSchema>

/** How often a tier's credits refill. */
export const refillPeriodSchema = z.enum(['day', 'week', 'month', 'none'])
export type RefillPeriod = z.infer<typeof refillPeriodSchema>

/**
 * What a refill does to the tier credits: `replace` sets them to the allocation (unspent tier
 * credits are lost), `add` adds the allocation, `rollover` adds it up to `max_balance`.
 */
export const refillPolicySchema = z.enum(['replace', 'add', 'rollover'])
export type RefillPolicy = z.infer<typeof refillPolicySchema>

export const refillSchema = z
  .object({
    every: refillPeriodSchema,
    /** @default "replace" */
    policy: refillPolicySchema.default('replace'),
    /** For `rollover` (and optionally `add`): the most tier credits a refill may leave. */
    max_balance: z.number().positive().optional(),
  })
  .strict()
  .refine((refill) => refill.policy !== 'rollover' || refill.max_balance !== undefined, {
    message: 'a rollover refill needs max_balance (the cap on rolled-over credits)',
    path: ['max_balance'],
  })
export type Refill = z.infer<typeof refillSchema>

/** A credit rate limit: at most `credits` reserved or settled per window. */
export const rateLimitSchema = z
  .object({
    credits: z.number().positive(),
    per: z.enum(['minute', 'hour', 'day']),
  })
  .strict()
export type RateLimit = z.infer<typeof rateLimitSchema>

/** A subscription tier: its credit allocation, refills and optional rate limit. */
export const tierSchema = z
  .object({
    credits: z
      .number({ error: 'credits must be a number' })
      .nonnegative('credits must not be negative')
      .refine(hasAtMostSixDecimals, 'credits may have at most six decimals'),
    /** Without it, the credits are granted once, when the user is created. */
    refill: refillSchema.optional(),
    rate_limit: rateLimitSchema.optional(),
  })
  .strict()
export type Tier = z.infer<typeof tierSchema>

/** What happens to a reservation nobody completed before it expired. */
export const reservationsSchema = z
  .object({
    /** Seconds a pending reservation lives unless extended. @default 900 */
    ttl_seconds: z.number().int().min(1).max(86_400).default(900),
    /** `charge`: the reserved credits are charged; `release`: they return to the user. @default "charge" */
    on_expire: z.enum(['charge', 'release']).default('charge'),
  })
  .strict()
export type Reservations = z.infer<typeof reservationsSchema>

const idKey = z.string().min(1).max(100)

/**
 * A project's configuration: the same shape in a JSON file, in code and in the admin API.
 * Only `models` and `tiers` are required.
 */
export const projectConfigSchema = z
  .object({
    models: z.record(idKey, modelPriceSchema),
    tiers: z
      .record(idKey, tierSchema)
      .refine((tiers) => Object.keys(tiers).length > 0, 'at least one tier is required'),
    /** @default the first tier */
    default_tier: idKey.optional(),
    reservations: reservationsSchema.default({ ttl_seconds: 900, on_expire: 'charge' }),
  })
  .strict()
  .superRefine((config, context) => {
    if (config.default_tier !== undefined && !(config.default_tier in config.tiers)) {
      context.addIssue({
        code: 'custom',
        path: ['default_tier'],
        message: `default_tier "${config.default_tier}" is not one of the tiers (${Object.keys(config.tiers).join(', ')})`,
      })
    }
  })
/** A project config as written (defaults not yet applied). */
export type ProjectConfigInput = z.input<typeof projectConfigSchema>
/** A project config after validation, with defaults applied. */
export type ProjectConfig = z.output<typeof projectConfigSchema>
