import { type ProblemSlug, problemBody, problemKinds } from './problem-types.ts'
import type { FieldError, Problem } from './schemas/problem.ts'

const markerPrefix = 'credly.error.'

/**
 * Base class of every error Credly throws.
 *
 * Check with `CredlyError.isInstance(error)` (or a subclass's `isInstance`) rather than
 * `instanceof`: an app can end up with two copies of `credly` (an adapter resolving its own),
 * and the marker check works across copies.
 */
export class CredlyError extends Error {
  /** The marker this class sets on its instances; every subclass names its own. */
  static readonly marker: string = 'CredlyError'
  override name = 'CredlyError'

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    // Mark the instance with every class in its chain, so each `isInstance` sees it.
    let type: { marker?: string } | null = new.target
    for (; type && type !== (Error as unknown); type = Object.getPrototypeOf(type)) {
      if (Object.hasOwn(type, 'marker')) {
        Object.defineProperty(this, Symbol.for(markerPrefix + type.marker), {
          value: true,
          enumerable: false,
        })
      }
    }
  }

  /** True for an instance of this class from any copy of the `credly` package. */
  static isInstance<T extends abstract new (...args: never[]) => unknown>(
    this: T & { marker: string },
    error: unknown,
  ): error is InstanceType<T> {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the subclass the check was called on.
    const marker = Symbol.for(markerPrefix + this.marker)
    return (
      typeof error === 'object' &&
      error !== null &&
      (error as Record<symbol, unknown>)[marker] === true
    )
  }
}

/** What `CredlyApiError.fromResponse` and the subclasses are built from. */
export type ApiErrorInit = {
  status: number
  title: string
  detail?: string
  type?: string
  instance?: string
  /** The server's request id (`x-request-id`), worth quoting in a bug report. */
  requestId?: string
  headers?: Headers
  /** The parsed response body: the problem object, or the raw text when it was not JSON. */
  body?: unknown
  errors?: FieldError[]
}

/**
 * The server answered with an error status. Fields follow RFC 9457 problem details.
 * `CredlyApiError.fromResponse` picks the subclass that matches the status.
 */
export class CredlyApiError extends CredlyError {
  static override readonly marker: string = 'CredlyApiError'
  override name = 'CredlyApiError'
  readonly status: number
  readonly title: string
  readonly detail: string | undefined
  /** A URL naming the kind of problem; its `#fragment` is a heading in docs/problems.md. */
  readonly type: string
  readonly instance: string | undefined
  readonly requestId: string | undefined
  readonly headers: Headers
  readonly body: unknown

  constructor(init: ApiErrorInit, options?: { cause?: unknown }) {
    super(apiErrorMessage(init), options)
    this.status = init.status
    this.title = init.title
    this.detail = init.detail
    this.type = init.type ?? 'about:blank'
    this.instance = init.instance
    this.requestId = init.requestId
    this.headers = init.headers ?? new Headers()
    this.body = init.body
  }

  /**
   * The error of a kind of problem (`problemKinds`), with its status, title and `type`, as the
   * class for its status: `CredlyApiError.fromKind('user-not-found', 'No user "ann".')` is a
   * `NotFoundError`. What the ledger throws, so the embedded client throws what the HTTP one does.
   */
  static fromKind(
    slug: ProblemSlug,
    detail: string,
    extensions: { errors?: FieldError[] } = {},
  ): CredlyApiError {
    return CredlyApiError.fromResponse(
      problemKinds[slug].status,
      problemBody(slug, detail, extensions),
    )
  }

  /**
   * Builds the error for a non-2xx response: parses an `application/problem+json` (or any JSON)
   * body, falls back to the status text for anything else, and picks the subclass by status.
   */
  static fromResponse(
    status: number,
    body: unknown,
    headers: Headers = new Headers(),
  ): CredlyApiError {
    const problem = asProblem(body)
    const init: ApiErrorInit = {
      status,
      title: problem?.title ?? defaultTitle(status),
      detail:
        problem?.detail ??
        (typeof body === 'string' && body.length > 0 ? body.slice(0, 500) : undefined),
      type: problem?.type,
      instance: problem?.instance,
      requestId: headers.get('x-request-id') ?? undefined,
      headers,
      body,
      errors: problem?.errors,
    }
    switch (status) {
      case 400:
      case 422:
        return new ValidationError({ ...init, errors: init.errors ?? [] })
      case 401:
        return new UnauthorizedError(init)
      case 402:
        return new InsufficientCreditsError({
          ...init,
          balance: numberField(problem, 'balance'),
          required: numberField(problem, 'required'),
          reason: stringField(problem, 'reason') ?? 'insufficient_credits',
        })
      case 403:
        return new ForbiddenError(init)
      case 404:
        return new NotFoundError(init)
      case 409:
        return new ConflictError(init)
      case 429:
        return new RateLimitError({
          ...init,
          retryAfterSeconds:
            numberField(problem, 'retry_after_seconds') ?? parseRetryAfterSeconds(headers),
          limit: numberField(problem, 'limit'),
          windowSeconds: numberField(problem, 'window_seconds'),
        })
      default:
        return status >= 500 ? new ServerError(init) : new CredlyApiError(init)
    }
  }
}

/**
 * The request was invalid (400). Also thrown by the client before any network call when its
 * input does not match the wire schema; `errors` names each field and what was wrong.
 */
export class ValidationError extends CredlyApiError {
  static override readonly marker: string = 'ValidationError'
  override name = 'ValidationError'
  readonly errors: FieldError[]

  constructor(init: Omit<ApiErrorInit, 'status'> & { status?: number; errors: FieldError[] }) {
    super({ ...init, status: init.status ?? 400 })
    this.errors = init.errors
  }
}

/** No API key, or an unknown or revoked one (401). */
export class UnauthorizedError extends CredlyApiError {
  static override readonly marker: string = 'UnauthorizedError'
  override name = 'UnauthorizedError'
}

/** The user may not spend what the call needs (402). Thrown by adapters and the AI SDK middleware. */
export class InsufficientCreditsError extends CredlyApiError {
  static override readonly marker: string = 'InsufficientCreditsError'
  override name = 'InsufficientCreditsError'
  /** Credits the user can spend now. */
  readonly balance: number | undefined
  /** Credits the refused call needed. */
  readonly required: number | undefined
  /** Why the start was refused, e.g. `insufficient_credits`. */
  readonly reason: string

  constructor(
    init: Omit<ApiErrorInit, 'status' | 'title'> & {
      status?: number
      title?: string
      balance?: number | undefined
      required?: number | undefined
      reason?: string
    },
  ) {
    super({ ...init, status: init.status ?? 402, title: init.title ?? 'Insufficient credits' })
    this.balance = init.balance
    this.required = init.required
    this.reason = init.reason ?? 'insufficient_credits'
  }
}

/** The key may not do this (403), e.g. a metering key calling an admin endpoint. */
export class ForbiddenError extends CredlyApiError {
  static override readonly marker: string = 'ForbiddenError'
  override name = 'ForbiddenError'
}

/** No such user, transaction or resource in this project (404). */
export class NotFoundError extends CredlyApiError {
  static override readonly marker: string = 'NotFoundError'
  override name = 'NotFoundError'
}

/**
 * The request conflicts with what already happened (409): a user that exists, an idempotency key
 * reused with a different body, a transaction already completed differently.
 */
export class ConflictError extends CredlyApiError {
  static override readonly marker: string = 'ConflictError'
  override name = 'ConflictError'
}

/** Too many requests or too many credits in a window (429). */
export class RateLimitError extends CredlyApiError {
  static override readonly marker: string = 'RateLimitError'
  override name = 'RateLimitError'
  /** Seconds to wait before trying again, from the body or the `Retry-After` header. */
  readonly retryAfterSeconds: number | undefined
  /** The limit that was reached (requests, or credits for a tier's credit limit), when known. */
  readonly limit: number | undefined
  /** The limit's window in seconds, when known. */
  readonly windowSeconds: number | undefined

  constructor(
    init: Omit<ApiErrorInit, 'status'> & {
      status?: number
      retryAfterSeconds?: number | undefined
      limit?: number | undefined
      windowSeconds?: number | undefined
    },
  ) {
    super({ ...init, status: init.status ?? 429 })
    this.retryAfterSeconds = init.retryAfterSeconds
    this.limit = init.limit
    this.windowSeconds = init.windowSeconds
  }
}

/** The server failed (5xx). Retried automatically up to `maxRetries`. */
export class ServerError extends CredlyApiError {
  static override readonly marker: string = 'ServerError'
  override name = 'ServerError'
}

/** No response arrived: the server was unreachable or the connection broke. See `cause`. */
export class CredlyConnectionError extends CredlyError {
  static override readonly marker: string = 'CredlyConnectionError'
  override name = 'CredlyConnectionError'
}

/** No response arrived within `timeoutMs`. */
export class CredlyTimeoutError extends CredlyConnectionError {
  static override readonly marker: string = 'CredlyTimeoutError'
  override name = 'CredlyTimeoutError'
}

/** Seconds from `retry-after-ms` or `Retry-After` (seconds or an HTTP date), if present. */
export function parseRetryAfterSeconds(
  headers: Headers,
  now: number = Date.now(),
): number | undefined {
  const milliseconds = headers.get('retry-after-ms')
  if (milliseconds !== null) {
    const value = Number(milliseconds)
    if (Number.isFinite(value) && value >= 0) return value / 1000
  }
  const retryAfter = headers.get('retry-after')
  if (retryAfter === null) return undefined
  const seconds = Number(retryAfter)
  if (Number.isFinite(seconds) && seconds >= 0) return seconds
  // https://www.rfc-editor.org/rfc/rfc9110#field.retry-after allows an HTTP date too.
  const date = Date.parse(retryAfter)
  if (Number.isNaN(date)) return undefined
  return Math.max(0, (date - now) / 1000)
}

function apiErrorMessage(init: ApiErrorInit): string {
  const head = `${init.status} ${init.title}`
  const detail = init.detail ? `: ${init.detail}` : ''
  const fields =
    init.errors && init.errors.length > 0
      ? ` (${init.errors.map((error) => `${error.path || '(body)'}: ${error.message}`).join('; ')})`
      : ''
  const see = init.type?.startsWith('http') ? ` See ${init.type}` : ''
  return `${head}${detail}${fields}${see}`
}

function asProblem(body: unknown): (Partial<Problem> & Record<string, unknown>) | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined
  const record = body as Record<string, unknown>
  const text = (key: string) =>
    typeof record[key] === 'string' ? (record[key] as string) : undefined
  const errors = Array.isArray(record.errors)
    ? record.errors.filter(
        (error): error is FieldError =>
          typeof error === 'object' &&
          error !== null &&
          typeof (error as FieldError).message === 'string',
      )
    : undefined
  // A plain `{ "error": "..." }` body is common from proxies; use it as the detail.
  return {
    ...record,
    type: text('type'),
    title: text('title'),
    detail: text('detail') ?? text('message') ?? text('error'),
    instance: text('instance'),
    errors: errors?.map((error) => ({ path: String(error.path ?? ''), message: error.message })),
  }
}

function numberField(record: Record<string, unknown> | undefined, key: string): number | undefined {
  const value = record?.[key]
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined
}

function stringField(record: Record<string, unknown> | undefined, key: string): string | undefined {
  const value = record?.[key]
  return typeof value === 'string' ? value : undefined
}

const statusTitles: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  402: 'Payment Required',
  403: 'Forbidden',
  404: 'Not Found',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Content Too Large',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
}

function defaultTitle(status: number): string {
  return statusTitles[status] ?? `HTTP ${status}`
}
