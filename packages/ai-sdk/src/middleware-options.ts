import type { MeteringOptions } from './meter.ts'

// These types name no AI SDK type: each face (`@credly/ai-sdk` for AI SDK 7, `/ai-v6` for
// AI SDK 6) fills them in with its own specification's, so an app's declarations only ever
// reference the `@ai-sdk/provider` major it installed.

/** How big a reservation is, before the call says what it used. */
export type ReservationPolicyOf<Prompt> = {
  /** Output tokens reserved when the call sets no `maxOutputTokens`. @default 4096 */
  defaultOutputTokens?: number
  /** The most output tokens one call reserves, whatever `maxOutputTokens` says. @default 32768 */
  maxOutputTokens?: number
  /** The most input tokens one call reserves. @default 200000 */
  maxInputTokens?: number
  /** Replaces the built-in prompt estimate (about four characters a token). */
  estimateInputTokens?: (prompt: Prompt) => number
  /**
   * When the user cannot afford the whole reservation: `refuse` the call
   * (`InsufficientCreditsError`), or `cap` it: reserve what the user can afford and lower the
   * call's `maxOutputTokens` to it, so the provider stops at the user's last credit (the result's
   * `providerMetadata.credly.capped` is true; the finish reason is usually `length`).
   * @default "refuse"
   */
  onShort?: 'refuse' | 'cap'
  /** With `onShort: 'cap'`: below this many affordable output tokens, refuse anyway. @default 256 */
  minOutputTokens?: number
}

/** Options of `credlyMiddleware`, for a model specification's model, call options and prompt. */
export type CredlyMiddlewareOptionsOf<Model, CallOptions, Prompt> = MeteringOptions & {
  /**
   * Who pays for the call. A call's `providerOptions.credly.userId` wins, then this, then the
   * request context an adapter set. A call with none is refused.
   */
  userId?: string | ((call: { params: CallOptions; model: Model }) => string | undefined)
  /** The model id to price the call as. @default the wrapped model's `modelId` */
  modelId?: string | ((model: Model) => string)
  /** How big a reservation is. See `ReservationPolicy`. */
  reservation?: ReservationPolicyOf<Prompt>
}

/** Options of `credlyEmbeddingMiddleware`, for a model specification's embedding model. */
export type CredlyEmbeddingMiddlewareOptionsOf<Model> = MeteringOptions & {
  /** Who pays; `providerOptions.credly.userId` on the call wins, then this, then the request context. */
  userId?: string
  /** The model id to price the call as (only its `input` price applies). @default the model's `modelId` */
  modelId?: string | ((model: Model) => string)
}

/** What a metered call reports in `providerMetadata.credly` (and on a stream's `finish` part). */
export type CredlyCallMetadata = {
  transactionId: string
  /** Credits charged for this model call. */
  creditsUsed: number
  /** The user's balance after it. */
  balance: number
  /** True when the usage was estimated (the provider reported none). */
  estimated: boolean
  /** True when the call's `maxOutputTokens` was lowered to what the user could afford. */
  capped: boolean
}

/**
 * The credits a whole multi-step run used: the sum over its steps' `providerMetadata.credly`.
 *
 * @example
 * ```ts
 * const result = await generateText({ model, tools, stopWhen: stepCountIs(5), prompt })
 * const credits = totalCreditsUsed(result.steps)
 * ```
 */
export function totalCreditsUsed(
  steps: ReadonlyArray<{ providerMetadata?: Record<string, unknown> | undefined }>,
): number {
  let micro = 0
  for (const step of steps) {
    const used = (step.providerMetadata?.credly as Partial<CredlyCallMetadata> | undefined)
      ?.creditsUsed
    if (typeof used === 'number') micro += Math.round(used * 1e6)
  }
  return micro / 1e6
}
