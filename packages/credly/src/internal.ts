/*
 * Everything the Credly packages share, the public API included: the wire schemas (zod), the
 * validation and retry helpers, the adapters' request gate. For @credly/* packages, which are
 * released together with this one; it may change in any release. Apps import from `credly`.
 */

export { startCreatingUser } from './capture-usage.ts'
export { parseRetryAfterSeconds } from './errors.ts'
export {
  clientResolver,
  type GateOutcome,
  gateRequest,
  insufficientCreditsResponse,
  missingUserResponse,
  type ProblemResponse,
  problemForError,
  rateLimitedResponse,
  runWithRequestCredly,
} from './http/index.ts'
export { newIdempotencyKey } from './idempotency-key.ts'
export { createUserRequestOf, transactionIdOf, userIdOf } from './lookup.ts'
export { problemBody, problemKinds, problemSlugs } from './problem-types.ts'
export * from './public-api.ts'
export { retryDelayMs, shouldRetryStatus } from './retry.ts'
export * from './schemas/index.ts'
export { parseOrThrow, toFieldErrors } from './validate.ts'
