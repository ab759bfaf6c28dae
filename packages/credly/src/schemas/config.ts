import { z } from 'zod'
import { hasAtMostSixDecimals, isStorableText, MAX_CREDITS } from './common.ts'

/** A credit amount in the config: not negative, at most `MAX_CREDITS`, at most six decimals. */
const configCredits = (name: string) =>
  z
    .number({ error: `${name} must be a number of credits` })
    .nonnegative(`${name} must not be negative`)
    .max(MAX_CREDITS, `${name} must be at most ${MAX_CREDITS} credits (MAX_CREDITS)`)
    .refine(hasAtMostSixDecimals, `${name} may have at most six decimals`)

const price = (name: string) =>
  z
    .number({ error: `${name} must be a number of credits per million tokens` })
    .nonnegative(`${name} must not be negative`)
    .max(1e9, `${name} must be at most 1e9 credits per million tokens`)
    .refine(hasAtMostSixDecimals, `${name} may have at most six decimals`)

const tokenPrices = {
  input: price('input'),
  output: price('output'),
  cached_input: price('cached_input').optional(),
  cache_write: price('cache_write').optional(),
  reasoning: price('reasoning').optional(),
}

/**
 * A long-context price: when a call's input tokens are more than `above_input_tokens`, the prices
 * it gives replace the base ones for the whole call (as providers bill prompts over 200k tokens).
 */
export const priceTierSchema = z
  .object({
    above_input_tokens: z
      .number({ error: 'above_input_tokens must be a whole number of input tokens' })
      .int('above_input_tokens must be a whole number of input tokens')
      .nonnegative('above_input_tokens must not be negative')
      .max(Number.MAX_SAFE_INTEGER),
    input: tokenPrices.input.optional(),
    output: tokenPrices.output.optional(),
    cached_input: tokenPrices.cached_input,
    cache_write: tokenPrices.cache_write,
    reasoning: tokenPrices.reasoning,
  })
  .strict()
export type PriceTier = z.infer<typeof priceTierSchema>

/**
 * A model's price in credits per million tokens. Without `cached_input` or `cache_write`, those
 * tokens cost `input`; without `reasoning`, reasoning tokens cost `output`. `tiers`, in rising
 * order, price long prompts (each tier the call's input tokens are above applies, in order).
 */
export const modelPriceSchema = z
  .object({
    ...tokenPrices,
    tiers: z
      .array(priceTierSchema)
      .max(20)
      .refine(
        (tiers) =>
          tiers.every(
            (tier, i) =>
              i === 0 || tier.above_input_tokens > (tiers[i - 1] as PriceTier).above_input_tokens,
          ),
        'tiers must be in rising order of above_input_tokens, each threshold once',
      )
      .optional(),
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
    max_balance: configCredits('max_balance')
      .refine((value) => value > 0, 'max_balance must be more than zero')
      .optional(),
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
    credits: configCredits('rate_limit.credits').refine(
      (value) => value > 0,
      'rate_limit.credits must be more than zero',
    ),
    per: z.enum(['minute', 'hour', 'day']),
  })
  .strict()
export type RateLimit = z.infer<typeof rateLimitSchema>

/** A subscription tier: its credit allocation, refills and optional rate limit. */
export const tierSchema = z
  .object({
    credits: configCredits('credits'),
    /** Without it, the credits are granted once, when the user is created. */
    refill: refillSchema.optional(),
    rate_limit: rateLimitSchema.optional(),
    /**
     * Credits a user of this tier may go below zero to start a call: a start goes through while
     * the balance after its reservation stays at or above minus this. The debt is repaid first by
     * the next credits. @default 0
     */
    overdraft: configCredits('overdraft').optional(),
    /**
     * Whether a metering key may create users on this tier. Only admin keys may put a user on
     * any other tier than the default one (a leaked app key must not mint credits).
     * @default false
     */
    self_serve: z.boolean().optional(),
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

/**
 * Prices from the catalog that ships with Credly (`@pydantic/genai-prices`): a model not under
 * `models` is priced at the catalog's USD price times `credits_per_usd` times `markup`.
 */
export const pricingSchema = z
  .object({
    /** Price models missing from `models` from the catalog. */
    catalog: z.boolean({ error: 'pricing.catalog must be true or false' }),
    /** Credits one US dollar buys (1000: a credit is a tenth of a cent). */
    credits_per_usd: z
      .number({ error: 'pricing.credits_per_usd must be a number of credits' })
      .positive('pricing.credits_per_usd must be more than zero')
      .max(1e9, 'pricing.credits_per_usd must be at most 1e9')
      .optional(),
    /** What the catalog's prices are multiplied by: 1.2 is a 20% margin. @default 1 */
    markup: z
      .number({ error: 'pricing.markup must be a number (1.2 for a 20% margin)' })
      .positive('pricing.markup must be more than zero')
      .max(1000, 'pricing.markup must be at most 1000')
      .default(1),
  })
  .strict()
  .refine((pricing) => (pricing.credits_per_usd ?? 0) * pricing.markup <= 1e6, {
    message:
      'pricing.credits_per_usd x pricing.markup must be at most 1,000,000 (a credit worth a millionth of a dollar)',
    path: ['credits_per_usd'],
  })
  .refine((pricing) => !pricing.catalog || pricing.credits_per_usd !== undefined, {
    message:
      'pricing.credits_per_usd is required with the catalog on: how many credits a US dollar buys (e.g. 1000)',
    path: ['credits_per_usd'],
  })
export type Pricing = z.output<typeof pricingSchema>

const idKey = z
  .string()
  .min(1)
  .max(100)
  .refine(isStorableText, 'a name must not contain a NUL character or an unpaired surrogate')

/**
 * A project's configuration: the same shape in a JSON file, in code and in the admin API.
 * Only `tiers` is required, and `models` unless `pricing.catalog` is on.
 */
export const projectConfigSchema = z
  .object({
    /** Prices in credits per million tokens by model id; they win over the catalog's. */
    models: z.record(idKey, modelPriceSchema).optional(),
    tiers: z
      .record(idKey, tierSchema)
      .refine((tiers) => Object.keys(tiers).length > 0, 'at least one tier is required'),
    /** @default the first tier */
    default_tier: idKey.optional(),
    reservations: reservationsSchema.default({ ttl_seconds: 900, on_expire: 'charge' }),
    pricing: pricingSchema.optional(),
  })
  .strict()
  .superRefine((config, context) => {
    if (config.models === undefined && config.pricing?.catalog !== true) {
      context.addIssue({
        code: 'custom',
        path: ['models'],
        message:
          'models is required unless the price catalog is on: price each model (e.g. {"gpt-4o": {"input": 2.5, "output": 10}}) or set "pricing": {"catalog": true, "credits_per_usd": 1000}',
      })
    }
    if (config.default_tier !== undefined && !Object.hasOwn(config.tiers, config.default_tier)) {
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

/**
 * A tier of the config by id, or undefined. Looks only at the config's own keys, so a user-sent
 * name such as `constructor` or `toString` never finds a built-in of `Object.prototype`.
 */
export function configuredTier(config: ProjectConfig, tierId: string): Tier | undefined {
  return Object.hasOwn(config.tiers, tierId) ? config.tiers[tierId] : undefined
}

/** The tier a new user gets: `default_tier`, else the first tier of the config. */
export function defaultTierOf(config: ProjectConfig): string {
  return config.default_tier ?? (Object.keys(config.tiers)[0] as string)
}

/** A model's price in the config by model id, or undefined (own keys only, as `configuredTier`). */
export function configuredPrice(config: ProjectConfig, model: string): ModelPrice | undefined {
  const models = config.models ?? {}
  return Object.hasOwn(models, model) ? models[model] : undefined
}
