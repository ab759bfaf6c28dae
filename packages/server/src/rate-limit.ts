import type { MiddlewareHandler } from 'hono'
import type { AppEnv } from './app-env.ts'
import { sendProblem } from './problems.ts'

/** The API's request rate limit per key (not the ledger's credit rate limits). */
export type ApiRateLimit = {
  /** Requests one key may make per window. */
  requests: number
  /** @default 60000 */
  windowMs?: number
}

/**
 * A fixed-window request limit per API key, kept in this process: it protects one server
 * instance from a runaway client. Credit limits, which must hold across instances, live in the
 * ledger. Answers 429 with `Retry-After` and the IETF `RateLimit` / `RateLimit-Policy` fields.
 */
export function rateLimit(
  options: ApiRateLimit,
  now: () => number = Date.now,
): MiddlewareHandler<AppEnv> {
  const windowMs = options.windowMs ?? 60_000
  const windowSeconds = Math.ceil(windowMs / 1000)
  const counts = new Map<string, number>()
  let windowStart = Number.NEGATIVE_INFINITY
  return async function limitRequests(c, next) {
    const key = c.get('auth')?.key_id
    if (!key) return next()
    const time = now()
    // A window opens with the first request after the last one ended (as `AuthGuard`'s).
    if (time - windowStart >= windowMs) {
      windowStart = time
      counts.clear()
    }
    const count = (counts.get(key) ?? 0) + 1
    counts.set(key, count)
    const reset = Math.max(1, Math.ceil((windowStart + windowMs - time) / 1000))
    const remaining = Math.max(0, options.requests - count)
    const headers = {
      'RateLimit-Policy': `"requests";q=${options.requests};w=${windowSeconds}`,
      RateLimit: `"requests";r=${remaining};t=${reset}`,
    }
    if (count > options.requests) {
      return sendProblem(
        c,
        'rate-limited',
        `This key made more than ${options.requests} requests in ${windowSeconds} s. Retry after ${reset} s.`,
        {
          headers: { ...headers, 'Retry-After': String(reset) },
          extensions: { retry_after_seconds: reset },
        },
      )
    }
    await next()
    for (const [name, value] of Object.entries(headers)) c.header(name, value)
  }
}
