import {
  type CompleteUsageResponse,
  type CredlyClient,
  CredlyError,
  getCredlyContext,
  InsufficientCreditsError,
  problemType,
  RateLimitError,
  startCreatingUser,
  type TokenCounts,
} from 'credly/internal'

/** What every Credly AI SDK middleware shares: who pays, how to react to metering failures. */
export type MeteringOptions = {
  /** The Credly client. @default the client of the request context an adapter set */
  client?: CredlyClient
  /**
   * Groups the transactions, e.g. `chat` or `summarize`. A call's
   * `providerOptions.credly.featureIdentifier` wins, then this, then the request context's.
   */
  featureIdentifier?: string
  /**
   * `enforce` (the default) refuses a call Credly refuses or cannot be asked about (fail
   * closed). `observe` never blocks: it records usage when it can and reports failures to
   * `onError`, for rolling Credly out in front of live traffic.
   * @default "enforce"
   */
  mode?: 'enforce' | 'observe'
  /** Told about metering failures that did not stop the call (e.g. a complete that kept failing). */
  onError?: (
    error: unknown,
    info: { phase: 'start' | 'complete' | 'extend'; transactionId?: string },
  ) => void
  /** How often a running stream's reservation is extended, in ms; 0 never. @default 60000 */
  extendIntervalMs?: number
  /** The TTL each extension asks for. @default the project's reservation TTL */
  extendTtlSeconds?: number
  /**
   * How long a stream's reservation may be kept alive in all, in ms. A stream nobody reads to the
   * end and nobody cancels then stops being extended, and its hold expires by the project's
   * policy instead of being held for ever. @default 3600000 (one hour)
   */
  maxExtendMs?: number
}

/** Settles one call's transaction exactly once, whatever path the call took. */
export type Meter = {
  transactionId: string
  /** Set when the reservation was capped: the output tokens the user could afford. */
  cappedOutputTokens: number | undefined
  /** Completes the transaction; later calls return the first settlement. */
  settle(input: {
    success: boolean
    tokens: TokenCounts
    estimated: boolean
  }): Promise<CompleteUsageResponse | undefined>
  /** Keeps the reservation alive until settled (for streams). */
  keepAlive(): void
}

/**
 * Retries of a completion, beyond the first attempt, by the client's own policy (network errors,
 * 408, 429 and 5xx, with its backoff and `Retry-After`): more than an ordinary call gets, because
 * the model call already happened and only the settlement is left.
 */
const COMPLETE_RETRIES = 4

/**
 * Starts a usage transaction for one model call (creating the user if needed). Throws
 * `InsufficientCreditsError` or `RateLimitError` when Credly refuses in `enforce` mode, and any
 * start failure too; in `observe` mode returns undefined instead, and the call goes ahead.
 */
export async function startMeter(
  options: MeteringOptions,
  call: {
    userId: string | undefined
    model: string
    /** The AI SDK's provider name (`openai.chat`), which the price catalog matches. */
    provider?: string | undefined
    tokens: TokenCounts
    featureIdentifier: string | undefined
    /** Reserve what the user affords, down to this many output tokens, rather than refuse. */
    capOutputAt?: { minOutputTokens: number } | undefined
  },
): Promise<Meter | undefined> {
  const context = getCredlyContext()
  const client = options.client ?? context?.client
  const userId = call.userId ?? context?.userId
  const observe = options.mode === 'observe'
  const fail = (error: unknown): undefined => {
    if (!observe) throw error
    options.onError?.(error, { phase: 'start' })
    return undefined
  }
  if (!client) {
    return fail(
      new CredlyError(
        'credlyMiddleware has no Credly client: pass { client } (createClient or createLocalClient), or run the call inside a request handled by the Credly Express, Hono or Next.js adapter.',
      ),
    )
  }
  if (!userId) {
    return fail(
      new CredlyError(
        'credlyMiddleware cannot tell who this model call is for, so it refuses to meter it against nobody. Pass providerOptions: { credly: { userId } } on the call, a userId option, or use a Credly adapter that sets the request user.',
      ),
    )
  }
  const feature = call.featureIdentifier ?? options.featureIdentifier ?? context?.featureIdentifier
  const startWith = (tokens: TokenCounts) =>
    startCreatingUser(client, {
      user_id: userId,
      model: call.model,
      provider: call.provider,
      provisional_tokens: tokens,
      feature_identifier: feature,
    })
  let start: Awaited<ReturnType<typeof startCreatingUser>>
  let cappedOutputTokens: number | undefined
  try {
    start = await startWith(call.tokens)
    // Short of the whole reservation: reserve what the user affords, if that is still enough.
    // The ledger decides again under the user's lock, so a balance spent meanwhile is refused.
    const affordable = start.affordable_output_tokens
    if (
      !start.continue &&
      start.reason === 'insufficient_credits' &&
      call.capOutputAt &&
      typeof affordable === 'number' &&
      affordable >= call.capOutputAt.minOutputTokens &&
      affordable < (call.tokens.output_tokens ?? 0)
    ) {
      const capped = await startWith({ ...call.tokens, output_tokens: affordable })
      if (capped.continue) cappedOutputTokens = affordable
      start = capped
    }
  } catch (error) {
    return fail(error)
  }
  if (!start.continue || start.transaction_id === null) {
    const init = {
      title: start.reason === 'rate_limited' ? 'Too Many Requests' : 'Insufficient credits',
      detail: start.message,
      type: problemType(start.reason === 'rate_limited' ? 'rate-limited' : 'insufficient-credits'),
    }
    return fail(
      start.reason === 'rate_limited'
        ? new RateLimitError({
            ...init,
            retryAfterSeconds: start.retry_after_seconds ?? undefined,
            limit: start.rate_limit?.limit,
            windowSeconds: start.rate_limit?.window_seconds,
          })
        : new InsufficientCreditsError({
            ...init,
            balance: start.balance,
            required: start.credits_required,
            reason: start.reason ?? 'insufficient_credits',
          }),
    )
  }
  return createMeter(client, start.transaction_id, options, cappedOutputTokens)
}

function createMeter(
  client: CredlyClient,
  transactionId: string,
  options: MeteringOptions,
  cappedOutputTokens: number | undefined,
): Meter {
  let settlement: Promise<CompleteUsageResponse | undefined> | undefined
  let timer: ReturnType<typeof setInterval> | undefined
  const stopExtending = () => {
    if (timer) clearInterval(timer)
    timer = undefined
  }
  return {
    transactionId,
    cappedOutputTokens,
    settle(input) {
      stopExtending()
      settlement ??= complete(client, transactionId, input, options)
      return settlement
    },
    keepAlive() {
      const interval = options.extendIntervalMs ?? 60_000
      if (interval <= 0 || timer || settlement) return
      const until = Date.now() + (options.maxExtendMs ?? 3_600_000)
      timer = setInterval(() => {
        if (Date.now() > until) {
          stopExtending()
          return
        }
        client
          .extendUsageTransaction({
            transaction_id: transactionId,
            ttl_seconds: options.extendTtlSeconds,
          })
          .catch((error: unknown) => options.onError?.(error, { phase: 'extend', transactionId }))
      }, interval)
      // A forgotten stream must not keep the process alive; the hold then expires by policy.
      timer.unref?.()
    },
  }
}

/**
 * Completes, the client retrying a completion that failed in transit: a repeated complete of a
 * transaction is answered with the first result, so it never settles twice (no idempotency key
 * needed, nor its row written). A completion that keeps failing is reported, not thrown: the model
 * call already happened, and the hold settles by the expiry policy.
 */
async function complete(
  client: CredlyClient,
  transactionId: string,
  input: { success: boolean; tokens: TokenCounts; estimated: boolean },
  options: MeteringOptions,
): Promise<CompleteUsageResponse | undefined> {
  const request = {
    transaction_id: transactionId,
    success: input.success,
    finalized_tokens: input.tokens,
    estimated: input.estimated || undefined,
  }
  try {
    return await client.completeUsageTransaction(request, { maxRetries: COMPLETE_RETRIES })
  } catch (error) {
    options.onError?.(error, { phase: 'complete', transactionId })
    return undefined
  }
}
