import { InsufficientCreditsError, RateLimitError } from '../errors.ts'
import { type ProblemBody, problemBody } from '../problem-types.ts'

/** A problem response any framework can send: status, headers and an RFC 9457 body. */
export type ProblemResponse = {
  status: number
  headers: Record<string, string>
  body: ProblemBody
}

const PROBLEM_CONTENT_TYPE = 'application/problem+json'

/** 402: the user may not spend what the request needs. */
export function insufficientCreditsResponse(input: {
  balance: number | undefined
  required: number | undefined
  reason?: string
  detail: string
  instance?: string
}): ProblemResponse {
  return {
    status: 402,
    headers: { 'content-type': PROBLEM_CONTENT_TYPE },
    body: problemBody('insufficient-credits', input.detail, {
      instance: input.instance,
      balance: input.balance ?? null,
      required: input.required ?? null,
      reason: input.reason ?? 'insufficient_credits',
    }),
  }
}

/**
 * 429: a tier's credit rate limit. `Retry-After` plus the IETF `RateLimit` and `RateLimit-Policy`
 * fields (draft-ietf-httpapi-ratelimit-headers), with the credits as the quota unit.
 */
export function rateLimitedResponse(input: {
  retryAfterSeconds: number | undefined
  limit: number | undefined
  windowSeconds: number | undefined
  detail: string
  instance?: string
}): ProblemResponse {
  const retryAfter = Math.max(1, Math.ceil(input.retryAfterSeconds ?? 1))
  const headers: Record<string, string> = {
    'content-type': PROBLEM_CONTENT_TYPE,
    'retry-after': String(retryAfter),
    ratelimit: `"credits";r=0;t=${retryAfter}`,
  }
  if (input.limit !== undefined && input.windowSeconds !== undefined) {
    headers['ratelimit-policy'] = `"credits";q=${input.limit};w=${input.windowSeconds}`
  }
  return {
    status: 429,
    headers,
    body: problemBody('rate-limited', input.detail, {
      instance: input.instance,
      retry_after_seconds: retryAfter,
      limit: input.limit ?? null,
      window_seconds: input.windowSeconds ?? null,
    }),
  }
}

/** 401: the request has no user to meter. */
export function missingUserResponse(instance?: string): ProblemResponse {
  return {
    status: 401,
    headers: { 'content-type': PROBLEM_CONTENT_TYPE },
    body: problemBody(
      'unauthorized',
      "This request has no signed-in user to meter. Sign in, or configure the Credly adapter's user option (it never trusts a user id sent by the browser).",
      { instance },
    ),
  }
}

/**
 * The problem response for an error a handler threw: `InsufficientCreditsError` is a 402 and
 * `RateLimitError` a 429 (both from any copy of `credly`); anything else is not Credly's to
 * answer, and the adapter passes it on.
 */
export function problemForError(error: unknown, instance?: string): ProblemResponse | undefined {
  if (InsufficientCreditsError.isInstance(error)) {
    return insufficientCreditsResponse({
      balance: error.balance,
      required: error.required,
      reason: error.reason,
      detail: error.detail ?? error.message,
      instance,
    })
  }
  if (RateLimitError.isInstance(error)) {
    return rateLimitedResponse({
      retryAfterSeconds: error.retryAfterSeconds,
      limit: error.limit,
      windowSeconds: error.windowSeconds,
      detail: error.detail ?? error.message,
      instance,
    })
  }
  return undefined
}
