/* The public API of `credly`, by name: what an app may rely on (see index.ts and internal.ts). */
export {
  type CaptureUsageParams,
  type CaptureUsageResult,
  type CaptureUsageStatus,
  captureUsage,
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
  RateLimitError,
  ServerError,
  UnauthorizedError,
  ValidationError,
} from './errors.ts'
export type { GateOptions, RequestCredly } from './http/index.ts'
export type { CreateUserInput, TransactionLookup, UserLookup } from './lookup.ts'
export { paginate } from './paginate.ts'
export {
  PROBLEMS_DOCS_URL,
  type ProblemBody,
  type ProblemSlug,
  problemSlug,
  problemType,
} from './problem-types.ts'
export { VERSION } from './version.ts'
