/*
 * Everything the Credly packages share, the public API included: the wire schemas (zod), the
 * validation and retry helpers, the adapters' request gate. For @credly/* packages, which are
 * released together with this one; it may change in any release. Apps import from `credly`.
 */
export {
  type CaptureUsageParams,
  type CaptureUsageResult,
  type CaptureUsageStatus,
  captureUsage,
  startCreatingUser,
} from './capture-usage.ts'
export {
  type ClientOptions,
  type CredlyClient,
  createClient,
  type RequestOptions,
} from './client.ts'
export { type CredlyRequestContext, getCredlyContext, runWithCredlyContext } from './context.ts'
export {
  type ApiErrorInit,
  ConflictError,
  CredlyApiError,
  CredlyConnectionError,
  CredlyError,
  CredlyTimeoutError,
  ForbiddenError,
  InsufficientCreditsError,
  NotFoundError,
  parseRetryAfterSeconds,
  RateLimitError,
  ServerError,
  UnauthorizedError,
  ValidationError,
} from './errors.ts'
export {
  clientResolver,
  type GateOptions,
  type GateOutcome,
  gateRequest,
  insufficientCreditsResponse,
  missingUserResponse,
  type ProblemResponse,
  problemForError,
  type RequestCredly,
  rateLimitedResponse,
  runWithRequestCredly,
} from './http/index.ts'
export {
  type CreateUserInput,
  createUserRequestOf,
  type TransactionLookup,
  transactionIdOf,
  type UserLookup,
  userIdOf,
} from './lookup.ts'
export { paginate } from './paginate.ts'
export {
  PROBLEMS_DOCS_URL,
  type ProblemBody,
  type ProblemSlug,
  problemBody,
  problemKinds,
  problemSlug,
  problemSlugs,
  problemType,
} from './problem-types.ts'
export { retryDelayMs, shouldRetryStatus } from './retry.ts'
export * from './schemas/index.ts'
export { parseOrThrow, toFieldErrors } from './validate.ts'
export { VERSION } from './version.ts'
