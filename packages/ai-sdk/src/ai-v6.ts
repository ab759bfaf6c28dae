/**
 * `@credly/ai-sdk/ai-v6`: the same middlewares for AI SDK 6 (`ai@6`, `@ai-sdk/provider@3`, the
 * v3 model specification). The v3 and v4 specifications agree on everything the middlewares
 * read and write (call options, prompt, content, usage, stream parts, provider metadata), so one
 * implementation serves both; only the declared version and the types differ.
 */
import type {
  EmbeddingModelV3,
  EmbeddingModelV3Middleware,
  LanguageModelV3,
  LanguageModelV3CallOptions,
  LanguageModelV3Middleware,
  LanguageModelV3Prompt,
} from '@ai-sdk/provider'
import {
  type CredlyMiddlewareOptions as CurrentOptions,
  credlyMiddleware as currentMiddleware,
} from './credly-middleware.ts'
import {
  type CredlyEmbeddingMiddlewareOptions as CurrentEmbeddingOptions,
  credlyEmbeddingMiddleware as currentEmbeddingMiddleware,
} from './embedding-middleware.ts'
import type {
  CredlyEmbeddingMiddlewareOptionsOf,
  CredlyMiddlewareOptionsOf,
  ReservationPolicyOf,
} from './middleware-options.ts'

export type { MeteringOptions } from './meter.ts'
export { type CredlyCallMetadata, totalCreditsUsed } from './middleware-options.ts'

/** How big a reservation is, before the call says what it used. */
export type ReservationPolicy = ReservationPolicyOf<LanguageModelV3Prompt>

/** Options of `credlyMiddleware`. */
export type CredlyMiddlewareOptions = CredlyMiddlewareOptionsOf<
  LanguageModelV3,
  LanguageModelV3CallOptions,
  LanguageModelV3Prompt
>

/** Options of `credlyEmbeddingMiddleware`. */
export type CredlyEmbeddingMiddlewareOptions = CredlyEmbeddingMiddlewareOptionsOf<EmbeddingModelV3>

/**
 * Meters every call of a wrapped AI SDK 6 language model through Credly, exactly as
 * `credlyMiddleware` of `@credly/ai-sdk` does for AI SDK 7.
 *
 * @example
 * ```ts
 * import { openai } from '@ai-sdk/openai'
 * import { credlyMiddleware } from '@credly/ai-sdk/ai-v6'
 * import { generateText, wrapLanguageModel } from 'ai'
 *
 * const model = wrapLanguageModel({ model: openai('gpt-4o'), middleware: credlyMiddleware({ client }) })
 * ```
 */
export function credlyMiddleware(options: CredlyMiddlewareOptions = {}): LanguageModelV3Middleware {
  // The options differ only in the AI SDK types passed back to callbacks, the same objects.
  const middleware = currentMiddleware(options as unknown as CurrentOptions)
  return { ...middleware, specificationVersion: 'v3' } as unknown as LanguageModelV3Middleware
}

/** Meters an AI SDK 6 embedding model's calls on their input tokens (`wrapEmbeddingModel`). */
export function credlyEmbeddingMiddleware(
  options: CredlyEmbeddingMiddlewareOptions = {},
): EmbeddingModelV3Middleware {
  const middleware = currentEmbeddingMiddleware(options as unknown as CurrentEmbeddingOptions)
  return { ...middleware, specificationVersion: 'v3' } as unknown as EmbeddingModelV3Middleware
}
