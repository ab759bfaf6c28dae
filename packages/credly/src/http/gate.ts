import type { CredlyClient } from '../client.ts'
import { runWithCredlyContext } from '../context.ts'
import {
  insufficientCreditsResponse,
  missingUserResponse,
  type ProblemResponse,
} from './problem-response.ts'
import { balanceCreatingUser, createRequestCredly, type RequestCredly } from './request-credly.ts'

/** What every adapter accepts, whatever the framework. */
export type GateOptions = {
  /**
   * Refuse with 402 before the handler runs unless the user has credits: `true` means more than
   * zero, a number means at least that many. What a streaming route needs, because a stream's
   * status is sent before the model is called. @default false
   */
  requireCredits?: boolean | number
  /**
   * A request without a user: `reject` answers 401, `pass` runs the handler unmetered (with no
   * `credly` on the request). @default "reject"
   */
  onMissingUser?: 'reject' | 'pass'
}

/** What the gate decided: run the handler (with `credly` unless passing unmetered), or answer now. */
export type GateOutcome =
  | { kind: 'allow'; credly: RequestCredly | undefined; gated: boolean }
  | { kind: 'deny'; response: ProblemResponse }

/**
 * The framework-free part of every adapter: who the user is, whether they may go on, and the
 * `credly` object the handler gets. Adapters only translate their request and response.
 */
export async function gateRequest(
  request: { userId: string | undefined; signal: AbortSignal; instance?: string },
  client: CredlyClient,
  options: GateOptions = {},
): Promise<GateOutcome> {
  if (!request.userId) {
    return options.onMissingUser === 'pass'
      ? { kind: 'allow', credly: undefined, gated: false }
      : { kind: 'deny', response: missingUserResponse(request.instance) }
  }
  let balance: number | undefined
  let gated = false
  if (options.requireCredits !== undefined && options.requireCredits !== false) {
    gated = true
    balance = await balanceCreatingUser(client, request.userId)
    const minimum = options.requireCredits === true ? 0 : options.requireCredits
    const enough = options.requireCredits === true ? balance > 0 : balance >= minimum
    if (!enough) {
      return {
        kind: 'deny',
        response: insufficientCreditsResponse({
          balance,
          // `true` asks for any credit at all: one micro-credit.
          required: options.requireCredits === true ? 0.000001 : minimum,
          detail:
            options.requireCredits === true
              ? `${request.userId} has no credits left (balance ${balance}).`
              : `This route needs at least ${minimum} credits; ${request.userId} has ${balance}.`,
          instance: request.instance,
        }),
      }
    }
  }
  return {
    kind: 'allow',
    gated,
    credly: createRequestCredly({
      userId: request.userId,
      client,
      signal: request.signal,
      balance,
    }),
  }
}

/**
 * Runs the rest of the request (the handler) with the request context that `credlyMiddleware`
 * from `@credly/ai-sdk` reads, so a model wrapped once at module scope meters this user.
 */
export function runWithRequestCredly<T>(
  outcome: Extract<GateOutcome, { kind: 'allow' }>,
  featureIdentifier: string | undefined,
  callback: () => T,
): T {
  const { credly, gated } = outcome
  if (!credly) return callback()
  return runWithCredlyContext(
    { userId: credly.userId, client: credly.client, featureIdentifier, gated },
    callback,
  )
}
