import type { CredlyClient } from './client.ts'
import { ConflictError, NotFoundError } from './errors.ts'
import { problemSlug } from './problem-types.ts'
import type { TokenCounts } from './schemas/common.ts'
import type { CompleteUsageResponse, StartUsageResponse } from './schemas/transactions.ts'

/** What `captureUsage` needs: the start fields, the work, and how to count its tokens. */
export type CaptureUsageParams<T> = {
  user_id: string
  model: string
  /** The tokens the call may use; their price is reserved before `execute` runs. */
  provisional_tokens?: TokenCounts
  feature_identifier?: string
  /** The metered work, e.g. the model call. Runs only when the start allowed it. */
  execute: () => T | Promise<T>
  /** The tokens `execute` really used, read from its result. */
  finalizeTokens: (result: T) => TokenCounts
  /**
   * The tokens to charge when `execute` throws (a provider may bill a failed call).
   * @default no tokens: the reservation is refunded in full
   */
  errorTokens?: (error: unknown) => TokenCounts
  /**
   * Throw the error of `execute` (after completing the transaction as failed) instead of
   * returning `executed_error`. @default false
   */
  rethrowOnError?: boolean
}

/** The settlement fields of `completeUsageTransaction`, carried flat on an executed result. */
type Settlement = Pick<CompleteUsageResponse, 'credits_used' | 'balance' | 'balanceAdjustment'> & {
  transaction_id: string
}

/** A start that went through: `start` is its response. */
type Started = { started: true; start: StartUsageResponse }

/**
 * How `captureUsage` ended: exactly the union of the original `credly` package (`status`,
 * `started`, `continue`, `start`, `finish`, `result`, `error`, `startError`), with the settlement
 * fields also flat for convenience. It never throws (unless `rethrowOnError`); switch on `status`:
 * - `start_failed`: the start could not be made (network, validation, unknown model); nothing
 *   ran. `startError` (also `error`) says why.
 * - `insufficient_credits`: the start was refused (`start.reason` says why); nothing ran.
 * - `executed_success`: `execute` returned `result` and the transaction was settled (`finish`).
 *   If the settlement itself failed, `completion_error` is set, `finish` holds the reservation's
 *   figures, and the reservation settles by the project's `on_expire` policy.
 * - `executed_error`: `execute` threw `error`; the transaction was completed as failed (`finish`).
 * - `execution_error_completion_failed`: `execute` threw and completing the transaction failed
 *   too (`completion_error`); the reservation settles by the project's `on_expire` policy.
 */
export type CaptureUsageResult<T> =
  | { status: 'start_failed'; started: false; continue: false; startError: unknown; error: unknown }
  | ({ status: 'insufficient_credits'; continue: false } & Started &
      Omit<StartUsageResponse, 'continue'>)
  | ({
      status: 'executed_success'
      continue: true
      result: T
      finish: CompleteUsageResponse
      completion_error?: unknown
    } & Started &
      Settlement)
  | ({
      status: 'executed_error'
      continue: true
      error: unknown
      finish: CompleteUsageResponse
    } & Started &
      Settlement)
  | ({
      status: 'execution_error_completion_failed'
      continue: true
      error: unknown
      finish?: undefined
      completion_error: unknown
      transaction_id: string
    } & Started)

/** The status union of `captureUsage`. */
export type CaptureUsageStatus = CaptureUsageResult<unknown>['status']

/**
 * Starts a usage transaction (creating the user on the default tier if it does not exist), runs
 * `execute` only when allowed, and completes the transaction on success and on failure.
 * Used by every `CredlyClient`, over HTTP or embedded.
 */
export async function captureUsage<T>(
  client: CredlyClient,
  params: CaptureUsageParams<T>,
): Promise<CaptureUsageResult<T>> {
  const startRequest = {
    user_id: params.user_id,
    model: params.model,
    provisional_tokens: params.provisional_tokens,
    feature_identifier: params.feature_identifier,
  }
  let start: StartUsageResponse
  try {
    start = await startCreatingUser(client, startRequest)
  } catch (error) {
    return { status: 'start_failed', started: false, continue: false, startError: error, error }
  }
  if (!start.continue || start.transaction_id === null) {
    return { status: 'insufficient_credits', started: true, start, ...start, continue: false }
  }
  const transactionId = start.transaction_id
  const started = { started: true, continue: true, start } as const

  let result: T
  try {
    result = await params.execute()
  } catch (error) {
    let completion: CompleteUsageResponse
    try {
      completion = await client.completeUsageTransaction({
        transaction_id: transactionId,
        success: false,
        finalized_tokens: params.errorTokens?.(error) ?? {},
      })
    } catch (completionError) {
      if (params.rethrowOnError) throw error
      return {
        status: 'execution_error_completion_failed',
        ...started,
        transaction_id: transactionId,
        error,
        completion_error: completionError,
      }
    }
    if (params.rethrowOnError) throw error
    return {
      status: 'executed_error',
      ...started,
      error,
      finish: completion,
      ...settlement(transactionId, completion),
    }
  }

  try {
    const completion = await client.completeUsageTransaction({
      transaction_id: transactionId,
      success: true,
      finalized_tokens: params.finalizeTokens(result),
    })
    return {
      status: 'executed_success',
      ...started,
      result,
      finish: completion,
      ...settlement(transactionId, completion),
    }
  } catch (completionError) {
    // The call ran; what it will cost is the reservation until the hold settles by policy.
    const finish: CompleteUsageResponse = {
      transaction_id: transactionId,
      credits_used: start.credits_used,
      balance: start.balance,
      balanceAdjustment: 0,
    }
    return {
      status: 'executed_success',
      ...started,
      result,
      finish,
      ...settlement(transactionId, finish),
      completion_error: completionError,
    }
  }
}

/**
 * Runs `action`; if Credly does not know the user yet, creates it on the project's default tier
 * (a concurrent creation is fine) and runs `action` again. What lets `captureUsage`, the AI SDK
 * middleware and the adapters meter a user the app never registered.
 */
export async function withUserCreated<T>(
  client: CredlyClient,
  userId: string,
  action: () => Promise<T>,
): Promise<T> {
  try {
    return await action()
  } catch (error) {
    if (!NotFoundError.isInstance(error) || problemSlug(error.type) !== 'user-not-found')
      throw error
    try {
      await client.createUser({ user_id: userId })
    } catch (createError) {
      // Another caller created the user first: that is what we wanted.
      if (!ConflictError.isInstance(createError)) throw createError
    }
    return action()
  }
}

/** `startUsageTransaction`, creating the user first if it does not exist yet. */
export function startCreatingUser(
  client: CredlyClient,
  request: Parameters<CredlyClient['startUsageTransaction']>[0],
  options?: Parameters<CredlyClient['startUsageTransaction']>[1],
): Promise<StartUsageResponse> {
  return withUserCreated(client, request.user_id, () =>
    client.startUsageTransaction(request, options),
  )
}

function settlement(transactionId: string, completion: CompleteUsageResponse): Settlement {
  return {
    transaction_id: transactionId,
    credits_used: completion.credits_used,
    balance: completion.balance,
    balanceAdjustment: completion.balanceAdjustment,
  }
}
