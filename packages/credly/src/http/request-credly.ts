import {
  type CaptureUsageParams,
  type CaptureUsageResult,
  captureUsage,
  startCreatingUser,
  withUserCreated,
} from '../capture-usage.ts'
import type { CredlyClient, RequestOptions } from '../client.ts'
import type {
  CompleteUsageRequest,
  CompleteUsageResponse,
  StartUsageRequest,
  StartUsageResponse,
} from '../schemas/transactions.ts'

/**
 * What the adapters attach to a request (`req.credly`, `c.var.credly`, the Next handler's
 * `credly`): the user, and Credly's calls bound to that user.
 */
export type RequestCredly = {
  /** The user this request's model calls are metered against. */
  readonly userId: string
  readonly client: CredlyClient
  /** The credits the user had when the request arrived, if the `requireCredits` gate read them. */
  readonly balance: number | undefined
  /** Aborts when the client goes away: pass it as the AI SDK's `abortSignal` so a stream settles. */
  readonly signal: AbortSignal
  /** The user's spendable credits now (creating the user on the default tier if new). */
  getBalance(): Promise<number>
  /** `startUsageTransaction` for this user (creating the user if new). */
  start(
    request: Omit<StartUsageRequest, 'user_id'>,
    options?: RequestOptions,
  ): Promise<StartUsageResponse>
  /** `completeUsageTransaction`. */
  complete(request: CompleteUsageRequest, options?: RequestOptions): Promise<CompleteUsageResponse>
  /** `captureUsage` for this user. */
  capture<T>(params: Omit<CaptureUsageParams<T>, 'user_id'>): Promise<CaptureUsageResult<T>>
}

/** The `credly` object an adapter attaches to a request, bound to its user. */
export function createRequestCredly(input: {
  userId: string
  client: CredlyClient
  signal: AbortSignal
  balance: number | undefined
}): RequestCredly {
  const { userId, client } = input
  return {
    userId,
    client,
    balance: input.balance,
    signal: input.signal,
    getBalance: () => balanceCreatingUser(client, userId),
    start: (request, options) =>
      startCreatingUser(client, { ...request, user_id: userId }, options),
    complete: (request, options) => client.completeUsageTransaction(request, options),
    capture: (params) =>
      captureUsage(client, { ...params, user_id: userId } as CaptureUsageParams<never>) as never,
  }
}

/** A user's balance; a user Credly has not seen yet is created on the default tier first. */
export async function balanceCreatingUser(client: CredlyClient, userId: string): Promise<number> {
  return (await withUserCreated(client, userId, () => client.getBalance(userId))).balance
}
