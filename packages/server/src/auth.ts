import type { IncomingMessage } from 'node:http'
import { hashApiKey, type Ledger } from '@credly/ledger'
import type { Context, MiddlewareHandler } from 'hono'
import type { AppEnv } from './app-env.ts'
import { sendProblem } from './problems.ts'

/**
 * How many failed authentications one client address may make per window before its keyed
 * requests are answered 429 without a database lookup.
 */
export type FailedAuthLimit = {
  /** @default 30 */
  failures: number
  /** @default 60000 */
  windowMs?: number
}

export const DEFAULT_FAILED_AUTH_LIMIT: Required<FailedAuthLimit> = {
  failures: 30,
  windowMs: 60_000,
}

/** Unknown key hashes remembered, so a repeated bad key costs no database lookup. */
const NEGATIVE_CACHE_SIZE = 10_000
const NEGATIVE_CACHE_MS = 60_000
/** Addresses counted per window; past this the window's counts start over (memory stays bounded). */
const TRACKED_ADDRESSES = 100_000

/**
 * Resolves `Authorization: Bearer <key>` to the key's project and scope on every request, so a
 * revoked key fails on its next request. A request without a key passes on unauthenticated:
 * each route decides whether it needs one. A `Credly-Project` header naming another project
 * than the key's is refused.
 *
 * Guessing keys is made slow and cheap to refuse: an address with too many failures in a window
 * gets 429 with `Retry-After` before any lookup, and a key just found unknown is remembered (by
 * its hash) for a minute. A key is 128 random bits, so this guards the database, not the keys.
 */
export function authenticate(
  ledger: Ledger,
  options: { failedAuthLimit?: FailedAuthLimit | false; now?: () => number } = {},
): MiddlewareHandler<AppEnv> {
  const now = options.now ?? Date.now
  const limit =
    options.failedAuthLimit === false
      ? undefined
      : { ...DEFAULT_FAILED_AUTH_LIMIT, ...options.failedAuthLimit }
  const unknownKeys = new Map<string, number>()
  const failures = new Map<string, number>()
  let windowStart = 0

  const isUnknown = (hash: string, time: number): boolean => {
    const until = unknownKeys.get(hash)
    if (until === undefined) return false
    if (until > time) return true
    unknownKeys.delete(hash)
    return false
  }
  const rememberUnknown = (hash: string, time: number) => {
    if (unknownKeys.size >= NEGATIVE_CACHE_SIZE)
      unknownKeys.delete(unknownKeys.keys().next().value as string)
    unknownKeys.set(hash, time + NEGATIVE_CACHE_MS)
  }

  return async function authenticateRequest(c, next) {
    const header = c.req.header('authorization')
    if (header === undefined) {
      c.set('auth', undefined)
      return next()
    }
    const time = now()
    const address = clientAddress(c)
    if (limit) {
      if (time - windowStart >= limit.windowMs || failures.size >= TRACKED_ADDRESSES) {
        windowStart = Math.floor(time / limit.windowMs) * limit.windowMs
        failures.clear()
      }
      if ((failures.get(address) ?? 0) >= limit.failures) {
        const retryAfter = Math.max(1, Math.ceil((windowStart + limit.windowMs - time) / 1000))
        return sendProblem(
          c,
          'rate-limited',
          `Too many requests with unknown or malformed API keys from this address (${limit.failures} in ${Math.round(limit.windowMs / 1000)} s). Check the key, then retry after ${retryAfter} s.`,
          {
            headers: { 'Retry-After': String(retryAfter) },
            extensions: { retry_after_seconds: retryAfter },
          },
        )
      }
    }
    const fail = (detail: string) => {
      if (limit) failures.set(address, (failures.get(address) ?? 0) + 1)
      return sendProblem(c, 'unauthorized', detail)
    }

    const match = /^Bearer\s+(\S+)$/i.exec(header)
    if (!match) return fail('The Authorization header must be "Bearer <key>".')
    const hash = hashApiKey(match[1] as string)
    const identity = isUnknown(hash, time)
      ? undefined
      : await ledger.authenticateApiKey(match[1] as string)
    if (!identity) {
      rememberUnknown(hash, time)
      return fail('This API key is unknown or revoked. `credly keys create` makes a new one.')
    }
    const project = c.req.header('credly-project')
    if (project !== undefined && project !== identity.project_id) {
      return sendProblem(
        c,
        'forbidden',
        `This API key belongs to another project than the Credly-Project header names ("${project}"). Use the project id that \`credly init\` printed with the key.`,
      )
    }
    c.set('auth', identity)
    return next()
  }
}

/** The client's address from Node's socket; `unknown` where there is none (`app.request`). */
function clientAddress(c: Context): string {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming
  return incoming?.socket?.remoteAddress ?? 'unknown'
}
