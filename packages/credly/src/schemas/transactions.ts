import { z } from 'zod'
import {
  creditsSchema,
  featureIdentifierSchema,
  modelIdSchema,
  pageQuerySchema,
  pageSchema,
  textSchema,
  timestampSchema,
  tokenCountsSchema,
  userIdSchema,
} from './common.ts'
import { modelPriceSchema } from './config.ts'

/** A transaction id, as `startUsageTransaction` returned it. */
export const transactionIdSchema = textSchema('transaction_id', { min: 1, max: 100 })

/** Why a start was refused (or `null` when it continued). */
export const startReasonSchema = z.enum([
  'insufficient_credits',
  'rate_limited',
  'user_not_found',
  'unknown_model',
])
export type StartReason = z.infer<typeof startReasonSchema>

/** Body of `startUsageTransaction`: reserve credits for a model call before making it. */
export const startUsageRequestSchema = z
  .object({
    user_id: userIdSchema,
    model: modelIdSchema,
    /** The tokens the call may use; their price is held until the call completes. */
    provisional_tokens: tokenCountsSchema.optional(),
    feature_identifier: featureIdentifierSchema.optional(),
    /**
     * Who serves the model, as the AI SDK names it (`openai.chat`, `anthropic.messages`): picks
     * the provider's price in the catalog. Prices under the project's `models` ignore it.
     */
    provider: textSchema('provider', { min: 1, max: 100 }).optional(),
  })
  .strict()
export type StartUsageRequest = z.input<typeof startUsageRequestSchema>

/**
 * A refusal reason as a client reads it: one it knows, or one a newer server added, kept as sent
 * (a client must not break on a server that knows more reasons than it does).
 */
export type StartReasonOnTheWire = StartReason | (string & {})

const startResponseFields = {
  /** Credits the user can spend now, after this reservation. */
  balance: creditsSchema,
  /** Credits reserved for the call; 0 when refused. */
  credits_used: creditsSchema,
  /** What the provisional tokens cost: the credits the call needed, reserved or not. */
  credits_required: creditsSchema,
  /**
   * The most output tokens this call could reserve, given its provisional input tokens, the
   * user's credits (and the tier's overdraft) and the rate limit's room: what "about 300 words
   * left" is computed from. Null when the model's output is free. (Older servers omit it.)
   */
  affordable_output_tokens: z.number().int().nonnegative().nullable().optional(),
  message: z.string(),
  /** For `rate_limited`: when the window has room again. */
  retry_after_seconds: z.number().nonnegative().nullable(),
  /** For `rate_limited`: the tier's credit limit and its window. */
  rate_limit: z
    .object({ limit: creditsSchema, window_seconds: z.number().int().positive() })
    .nullable()
    .optional(),
}

/**
 * Result of `startUsageTransaction`, a union on `continue`: make the model call only when it is
 * true, and then `transaction_id` is the transaction to complete. When false, nothing is held
 * and `reason` says why.
 */
export const startUsageResponseSchema = z.discriminatedUnion('continue', [
  z.object({
    continue: z.literal(true),
    /** The transaction to complete. */
    transaction_id: z.string(),
    reason: z.null(),
    ...startResponseFields,
  }),
  z.object({
    continue: z.literal(false),
    transaction_id: z.null(),
    /** Why the start was refused. */
    reason: z.union([startReasonSchema, z.string()]),
    ...startResponseFields,
  }),
])
type StartUsageResponseOnTheWire = z.infer<typeof startUsageResponseSchema>
/** Result of `startUsageTransaction`: `StartUsageAllowed` or `StartUsageRefused`, by `continue`. */
export type StartUsageResponse = StartUsageAllowed | StartUsageRefused
/** A start that went through: make the call, then complete `transaction_id`. */
export type StartUsageAllowed = Extract<StartUsageResponseOnTheWire, { continue: true }>
/** A refused start: nothing is held; `reason` says why. */
export type StartUsageRefused = Omit<
  Extract<StartUsageResponseOnTheWire, { continue: false }>,
  'reason'
> & { reason: StartReasonOnTheWire }

/** Body of `completeUsageTransaction`: settle a reservation with what the call really used. */
export const completeUsageRequestSchema = z
  .object({
    transaction_id: transactionIdSchema,
    /** False when the model call failed; the finalized tokens given are still charged. */
    success: z.boolean({ error: 'success must be true or false' }),
    finalized_tokens: tokenCountsSchema,
    /** True when the counts are an estimate (e.g. a stream aborted before its usage arrived). */
    estimated: z.boolean().optional(),
  })
  .strict()
export type CompleteUsageRequest = z.input<typeof completeUsageRequestSchema>

/** Result of `completeUsageTransaction`. */
export const completeUsageResponseSchema = z.object({
  transaction_id: z.string(),
  /** Credits charged for the call. */
  credits_used: creditsSchema,
  /** Credits the user can spend now. May be negative after a call that used more than reserved. */
  balance: creditsSchema,
  /** Reserved minus charged: positive was refunded, negative was charged on top. */
  balanceAdjustment: creditsSchema,
})
export type CompleteUsageResponse = z.infer<typeof completeUsageResponseSchema>

/** Body of `extendUsageTransaction`: keep a reservation alive while a long stream still runs. */
export const extendUsageRequestSchema = z
  .object({
    transaction_id: transactionIdSchema,
    /** New time to live from now. @default the project's reservation TTL */
    ttl_seconds: z.number().int().min(1).max(86_400).optional(),
  })
  .strict()
export type ExtendUsageRequest = z.input<typeof extendUsageRequestSchema>

export const transactionStatusSchema = z.enum(['pending', 'completed', 'failed', 'expired'])
export type TransactionStatus = z.infer<typeof transactionStatusSchema>

/**
 * Where a transaction's price came from: the project's `models`, or the price catalog (which
 * package and version, and the catalog's own provider and model ids it matched).
 */
export const priceSourceSchema = z.discriminatedUnion('from', [
  z.object({ from: z.literal('config') }),
  z.object({
    from: z.literal('catalog'),
    /** The catalog package and version, e.g. `@pydantic/genai-prices@0.1.8`. */
    catalog: z.string(),
    provider: z.string(),
    model: z.string(),
  }),
])
export type PriceSource = z.infer<typeof priceSourceSchema>

/** One metered model call, from reservation to settlement. */
export const transactionSchema = z.object({
  id: z.string(),
  user_id: z.string(),
  model: z.string(),
  feature_identifier: z.string().nullable(),
  /** `pending`, `completed`, `failed` or `expired` (a newer server's status is kept as sent). */
  status: z.union([transactionStatusSchema, z.string()]),
  credits_reserved: creditsSchema,
  /** Credits charged; 0 while pending. */
  credits_used: creditsSchema,
  provisional_tokens: tokenCountsSchema.nullable(),
  finalized_tokens: tokenCountsSchema.nullable(),
  /** The model's price when the transaction started, in credits per million tokens. */
  price: modelPriceSchema,
  /** Where `price` came from. (Older servers omit it.) */
  price_source: priceSourceSchema.optional(),
  /** True when the usage was estimated (an aborted stream). */
  estimated: z.boolean(),
  created_at: timestampSchema,
  completed_at: timestampSchema.nullable(),
  /** When a pending reservation expires (null once resolved). */
  expires_at: timestampSchema.nullable(),
})
/** One metered model call, from reservation to settlement. */
export type Transaction = Omit<z.infer<typeof transactionSchema>, 'status'> & {
  status: TransactionStatus | (string & {})
}

/** Filters and pagination of `getTransactions`. */
export const listTransactionsQuerySchema = pageQuerySchema
  .extend({
    user_id: userIdSchema.optional(),
    status: transactionStatusSchema.optional(),
    model: modelIdSchema.optional(),
    feature_identifier: featureIdentifierSchema.optional(),
    /** Only transactions created at or after this time. */
    created_after: timestampSchema.optional(),
    /** Only transactions created before this time. */
    created_before: timestampSchema.optional(),
  })
  .strict()
export type ListTransactionsQuery = z.input<typeof listTransactionsQuerySchema>

export const transactionPageSchema = pageSchema(transactionSchema)
