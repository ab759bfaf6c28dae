export {
  type CredlyCallMetadata,
  type CredlyMiddlewareOptions,
  credlyMiddleware,
  type ReservationPolicy,
  totalCreditsUsed,
} from './credly-middleware.ts'
export {
  type CredlyEmbeddingMiddlewareOptions,
  credlyEmbeddingMiddleware,
} from './embedding-middleware.ts'
export type { MeteringOptions } from './meter.ts'
export {
  estimatePromptTokens,
  estimateTextTokens,
  FILE_PART_TOKENS,
  toTokenCounts,
} from './usage.ts'
