import type { z } from 'zod'
import { type CaptureUsageParams, type CaptureUsageResult, captureUsage } from './capture-usage.ts'
import { CredlyApiError, CredlyConnectionError, CredlyError, CredlyTimeoutError } from './errors.ts'
import { newIdempotencyKey } from './idempotency-key.ts'
import {
  type CreateUserInput,
  createUserRequestOf,
  type TransactionLookup,
  transactionIdOf,
  type UserLookup,
  userIdOf,
} from './lookup.ts'
import { retryDelayMs, shouldRetryStatus, sleep } from './retry.ts'
import type { Page } from './schemas/common.ts'
import {
  type Grant,
  type GrantCreditsRequest,
  grantCreditsRequestSchema,
  grantSchema,
} from './schemas/grants.ts'
import {
  type CompleteUsageRequest,
  type CompleteUsageResponse,
  completeUsageRequestSchema,
  completeUsageResponseSchema,
  type ExtendUsageRequest,
  extendUsageRequestSchema,
  type ListTransactionsQuery,
  listTransactionsQuerySchema,
  type StartUsageRequest,
  type StartUsageResponse,
  startUsageRequestSchema,
  startUsageResponseSchema,
  type Transaction,
  transactionPageSchema,
  transactionSchema,
} from './schemas/transactions.ts'
import {
  type UsageQuery,
  type UsageReport,
  usageQuerySchema,
  usageReportSchema,
} from './schemas/usage.ts'
import {
  type BalanceResponse,
  balanceResponseSchema,
  type ChangeUserTierRequest,
  changeUserTierRequestSchema,
  type DeleteUserResponse,
  deleteUserResponseSchema,
  type ListUsersQuery,
  listUsersQuerySchema,
  type User,
  userPageSchema,
  userSchema,
} from './schemas/users.ts'
import { parseOrThrow } from './validate.ts'
import { VERSION } from './version.ts'

/** Options of `createClient`. */
export type ClientOptions = {
  /** A Credly API key. @default process.env.CREDLY_API_KEY */
  apiKey?: string
  /** The project the key belongs to. @default process.env.CREDLY_PROJECT_ID */
  projectId?: string
  /** Where the Credly server listens. @default process.env.CREDLY_BASE_URL ?? "http://127.0.0.1:8787" */
  baseUrl?: string
  /** A Fetch implementation, e.g. to add tracing. @default globalThis.fetch */
  fetch?: typeof fetch
  /** How long one attempt may wait for a response, in milliseconds. @default 10000 */
  timeoutMs?: number
  /** How many times a network error, 408, 429 or 5xx is retried. @default 2 */
  maxRetries?: number
  /** Headers sent with every request. */
  defaultHeaders?: Record<string, string>
}

/** Per-call options, the last argument of every client method. */
export type RequestOptions = {
  /** Cancels the call, including its retries. */
  signal?: AbortSignal
  /** Overrides the client's `timeoutMs` for this call. */
  timeoutMs?: number
  /** Overrides the client's `maxRetries` for this call. */
  maxRetries?: number
  /**
   * The idempotency key of a write. A write repeated with the same key and body returns the
   * first result. @default a new random key per call, reused by its retries
   */
  idempotencyKey?: string
}

/**
 * Everything an app can ask of Credly. `createClient` (over HTTP) and `createLocalClient` from
 * `@credly/ledger` (embedded) both return one, so code written against it runs on either.
 */
export interface CredlyClient {
  /** Reserves credits for a model call. Make the call only when the result's `continue` is true. */
  startUsageTransaction(
    request: StartUsageRequest,
    options?: RequestOptions,
  ): Promise<StartUsageResponse>
  /** Settles a reservation with the tokens the call really used; exactly once per transaction. */
  completeUsageTransaction(
    request: CompleteUsageRequest,
    options?: RequestOptions,
  ): Promise<CompleteUsageResponse>
  /** Pushes back the expiry of a pending reservation, e.g. while a long stream still runs. */
  extendUsageTransaction(
    request: ExtendUsageRequest,
    options?: RequestOptions,
  ): Promise<Transaction>
  /** Start, run `execute` only if allowed, complete on success and on failure. Never throws unless `rethrowOnError`. */
  captureUsage<T>(params: CaptureUsageParams<T>): Promise<CaptureUsageResult<T>>
  /**
   * Creates a user on a tier (the project's default tier when none is given):
   * `createUser({ user_id })`, or `createUser({ id })` as the original `credly` package.
   */
  createUser(request: CreateUserInput, options?: RequestOptions): Promise<User>
  /** A user with balance, held credits, tier and next refill: `getUser('user_42')` or `getUser({ id: 'user_42' })`. */
  getUser(user: UserLookup, options?: RequestOptions): Promise<User>
  /** One page of users; pass `next_cursor` back as `cursor` for the next. */
  getUsers(query?: ListUsersQuery, options?: RequestOptions): Promise<Page<User>>
  /** Deletes a user. Their transactions and journal entries stay (history is append-only). */
  deleteUser(user: UserLookup, options?: RequestOptions): Promise<DeleteUserResponse>
  changeUserTier(request: ChangeUserTierRequest, options?: RequestOptions): Promise<User>
  /** The credits a user can spend now and the credits held by pending reservations. */
  getBalance(user: UserLookup, options?: RequestOptions): Promise<BalanceResponse>
  /** Adds credits to a user (a top-up), optionally expiring. */
  grantCredits(request: GrantCreditsRequest, options?: RequestOptions): Promise<Grant>
  /** One page of transactions, newest first, filtered by user, status, model, feature or time. */
  getTransactions(
    query?: ListTransactionsQuery,
    options?: RequestOptions,
  ): Promise<Page<Transaction>>
  /**
   * Calls, credits charged and refunded, tokens by kind and refusals over a time range, grouped
   * by `day`, `hour`, `model`, `feature`, `user` or `tier`: `getUsage({ group_by: ['day', 'model'] })`.
   */
  getUsage(query?: UsageQuery, options?: RequestOptions): Promise<UsageReport>
  /** One transaction: `getTransaction('txn_123')` or `getTransaction({ id: 'txn_123' })`. */
  getTransaction(transaction: TransactionLookup, options?: RequestOptions): Promise<Transaction>
}

const DEFAULT_BASE_URL = 'http://127.0.0.1:8787'
const DEFAULT_TIMEOUT_MS = 10_000
const DEFAULT_MAX_RETRIES = 2

type Method = 'GET' | 'POST' | 'DELETE'

type CallSpec<S extends z.ZodType> = {
  method: Method
  path: string
  body?: unknown
  query?: Record<string, string | number | undefined>
  response: S
  /**
   * The server answers a repeat of this body as it answered the first (a complete: the
   * transaction keeps its result), so it needs no idempotency key unless the caller gives one.
   */
  repeatable?: true
}

/**
 * Creates a client for a Credly server.
 *
 * @example
 * ```ts
 * import { createClient } from 'credly'
 *
 * const credly = createClient({ apiKey: process.env.CREDLY_API_KEY, projectId: 'prj_123' })
 * const start = await credly.startUsageTransaction({
 *   user_id: 'user_42',
 *   model: 'gpt-4o',
 *   provisional_tokens: { input_tokens: 1200, output_tokens: 800 },
 * })
 * if (start.continue && start.transaction_id) {
 *   // ... call the model, then:
 *   await credly.completeUsageTransaction({
 *     transaction_id: start.transaction_id,
 *     success: true,
 *     finalized_tokens: { input_tokens: 1180, output_tokens: 412 },
 *   })
 * }
 * ```
 */
export function createClient(options: ClientOptions = {}): CredlyClient {
  const apiKey = options.apiKey ?? process.env.CREDLY_API_KEY
  const projectId = options.projectId ?? process.env.CREDLY_PROJECT_ID
  if (!apiKey) {
    throw new CredlyError(
      'createClient needs an API key: pass { apiKey } or set CREDLY_API_KEY. `credly init` prints one.',
    )
  }
  if (!projectId) {
    throw new CredlyError(
      'createClient needs a project id: pass { projectId } or set CREDLY_PROJECT_ID. `credly init` prints it.',
    )
  }
  const baseUrl = (options.baseUrl ?? process.env.CREDLY_BASE_URL ?? DEFAULT_BASE_URL).replace(
    /\/+$/,
    '',
  )
  try {
    new URL(baseUrl)
  } catch (cause) {
    throw new CredlyError(
      `createClient: baseUrl "${baseUrl}" is not a URL (e.g. http://127.0.0.1:8787)`,
      {
        cause,
      },
    )
  }
  const fetchImpl = options.fetch ?? globalThis.fetch
  const clientTimeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const clientMaxRetries = options.maxRetries ?? DEFAULT_MAX_RETRIES

  async function call<S extends z.ZodType>(
    spec: CallSpec<S>,
    callOptions: RequestOptions = {},
  ): Promise<z.output<S>> {
    const url = new URL(baseUrl + spec.path)
    for (const [key, value] of Object.entries(spec.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value))
    }
    const headers: Record<string, string> = {
      accept: 'application/json',
      authorization: `Bearer ${apiKey}`,
      'credly-project': projectId as string,
      'user-agent': `credly-node/${VERSION}`,
      ...options.defaultHeaders,
    }
    if (spec.body !== undefined) headers['content-type'] = 'application/json'
    // One key for the logical call: every retry resends it, so a retry can never charge twice.
    const idempotencyKey =
      callOptions.idempotencyKey ?? (spec.repeatable ? undefined : newIdempotencyKey())
    if (spec.method !== 'GET' && idempotencyKey !== undefined)
      headers['idempotency-key'] = idempotencyKey
    const body = spec.body === undefined ? undefined : JSON.stringify(spec.body)
    const maxRetries = callOptions.maxRetries ?? clientMaxRetries
    const timeoutMs = callOptions.timeoutMs ?? clientTimeoutMs
    const userSignal = callOptions.signal

    for (let attempt = 0; ; attempt++) {
      if (attempt > 0) headers['x-credly-retry-count'] = String(attempt)
      const timeout = AbortSignal.timeout(timeoutMs)
      const signal = userSignal ? AbortSignal.any([userSignal, timeout]) : timeout
      let response: Response
      let text: string
      try {
        response = await fetchImpl(url, { method: spec.method, headers, body, signal })
        text = await response.text()
      } catch (cause) {
        if (userSignal?.aborted) throw userSignal.reason
        const error = timeout.aborted
          ? new CredlyTimeoutError(`${spec.method} ${spec.path} timed out after ${timeoutMs} ms`, {
              cause,
            })
          : new CredlyConnectionError(
              `${spec.method} ${spec.path}: could not reach the Credly server at ${baseUrl} (${describe(cause)})`,
              { cause },
            )
        if (attempt >= maxRetries) throw error
        await sleep(retryDelayMs(attempt + 1), userSignal)
        continue
      }

      const parsed = parseBody(text)
      if (response.ok) return parseResponse(spec, parsed)
      if (attempt < maxRetries && shouldRetryStatus(response.status, response.headers)) {
        await sleep(retryDelayMs(attempt + 1, response.headers), userSignal)
        continue
      }
      throw CredlyApiError.fromResponse(response.status, parsed, response.headers)
    }
  }

  const client: CredlyClient = {
    startUsageTransaction: async (request, callOptions) =>
      call(
        {
          method: 'POST',
          path: '/v1/usage/start',
          body: parseOrThrow(startUsageRequestSchema, request, 'startUsageTransaction request'),
          response: startUsageResponseSchema,
        },
        callOptions,
      ),
    completeUsageTransaction: async (request, callOptions) =>
      call(
        {
          method: 'POST',
          path: '/v1/usage/complete',
          body: parseOrThrow(
            completeUsageRequestSchema,
            request,
            'completeUsageTransaction request',
          ),
          response: completeUsageResponseSchema,
          repeatable: true,
        },
        callOptions,
      ),
    extendUsageTransaction: async (request, callOptions) =>
      call(
        {
          method: 'POST',
          path: '/v1/usage/extend',
          body: parseOrThrow(extendUsageRequestSchema, request, 'extendUsageTransaction request'),
          response: transactionSchema,
        },
        callOptions,
      ),
    captureUsage: (params) => captureUsage(client, params),
    createUser: async (request, callOptions) =>
      call(
        {
          method: 'POST',
          path: '/v1/users',
          body: createUserRequestOf(request),
          response: userSchema,
        },
        callOptions,
      ),
    getUser: async (user, callOptions) =>
      call({ method: 'GET', path: userPath(user, 'getUser'), response: userSchema }, callOptions),
    getUsers: async (query = {}, callOptions) =>
      call(
        {
          method: 'GET',
          path: '/v1/users',
          query: parseOrThrow(listUsersQuerySchema, query, 'getUsers query'),
          response: userPageSchema,
        },
        callOptions,
      ),
    deleteUser: async (user, callOptions) =>
      call(
        {
          method: 'DELETE',
          path: userPath(user, 'deleteUser'),
          response: deleteUserResponseSchema,
        },
        callOptions,
      ),
    changeUserTier: async (request, callOptions) => {
      const { user_id, ...body } = parseOrThrow(
        changeUserTierRequestSchema,
        request,
        'changeUserTier request',
      )
      return call(
        {
          method: 'POST',
          path: `${userPath(user_id, 'changeUserTier')}/tier`,
          body,
          response: userSchema,
        },
        callOptions,
      )
    },
    getBalance: async (user, callOptions) =>
      call(
        {
          method: 'GET',
          path: `${userPath(user, 'getBalance')}/balance`,
          response: balanceResponseSchema,
        },
        callOptions,
      ),
    grantCredits: async (request, callOptions) => {
      const { user_id, ...body } = parseOrThrow(
        grantCreditsRequestSchema,
        request,
        'grantCredits request',
      )
      return call(
        {
          method: 'POST',
          path: `${userPath(user_id, 'grantCredits')}/grants`,
          body,
          response: grantSchema,
        },
        callOptions,
      )
    },
    getTransactions: async (query = {}, callOptions) =>
      call(
        {
          method: 'GET',
          path: '/v1/transactions',
          query: parseOrThrow(listTransactionsQuerySchema, query, 'getTransactions query'),
          response: transactionPageSchema,
        },
        callOptions,
      ),
    getUsage: async (query = {}, callOptions) => {
      const input = parseOrThrow(usageQuerySchema, query, 'getUsage query')
      return call(
        {
          method: 'GET',
          path: '/v1/usage',
          query: { ...input, group_by: input.group_by?.join(',') },
          response: usageReportSchema,
        },
        callOptions,
      )
    },
    getTransaction: async (transaction, callOptions) => {
      const id = transactionIdOf(transaction, 'getTransaction')
      return call(
        {
          method: 'GET',
          path: `/v1/transactions/${encodeURIComponent(id)}`,
          response: transactionSchema,
        },
        callOptions,
      )
    },
  }
  return client
}

function userPath(user: UserLookup, method: string): string {
  return `/v1/users/${encodeURIComponent(userIdOf(user, method))}`
}

function parseBody(text: string): unknown {
  if (text.length === 0) return undefined
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

function parseResponse<S extends z.ZodType>(spec: CallSpec<S>, body: unknown): z.output<S> {
  const result = spec.response.safeParse(body)
  if (result.success) return result.data
  throw new CredlyError(
    `${spec.method} ${spec.path}: the server's response does not match this client's wire schema ` +
      `(is the server a different Credly version?): ${result.error.issues
        .slice(0, 3)
        .map((issue) => `${issue.path.join('.') || '(body)'}: ${issue.message}`)
        .join('; ')}`,
  )
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : ''
    return `${error.message}${cause}`
  }
  return String(error)
}
