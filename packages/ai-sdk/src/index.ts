export {
  type CredlyMiddlewareOptions,
  credlyMiddleware,
  type ReservationPolicy,
} from './credly-middleware.ts'
export {
  type CredlyEmbeddingMiddlewareOptions,
  credlyEmbeddingMiddleware,
} from './embedding-middleware.ts'
export type { MeteringOptions } from './meter.ts'
export { type CredlyCallMetadata, totalCreditsUsed } from './middleware-options.ts'
export {
  estimatePromptTokens,
  estimateTextTokens,
  FILE_PART_TOKENS,
  toTokenCounts,
} from './usage.ts'
