import type { IncomingMessage } from 'node:http'
import { type ApiKeyIdentity, hashApiKey, type Ledger } from '@credly/ledger'
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
 * Failed authentications per client address, and keys found unknown, shared by everything that
 * takes a key (the API's `Authorization` header and the dashboard's sign-in), so guesses count
 * together wherever they are made.
 */
export class AuthGuard {
  private readonly limit: Required<FailedAuthLimit> | undefined
  private readonly now: () => number
  private readonly unknownKeys = new Map<string, number>()
  private readonly failures = new Map<string, number>()
  // No window yet: the first request opens one.
  private windowStart = Number.NEGATIVE_INFINITY

  constructor(limit: FailedAuthLimit | false | undefined, now: () => number = Date.now) {
    this.limit = limit === false ? undefined : { ...DEFAULT_FAILED_AUTH_LIMIT, ...limit }
    this.now = now
  }

  /** Seconds until `address` may try again, or undefined when it may now. */
  retryAfter(address: string): number | undefined {
    const limit = this.limit
    if (!limit) return undefined
    const time = this.now()
    // A window opens with the first request after the last one ended, not at a multiple of its
    // length on the clock: failures made together are then counted together, however near such a
    // multiple they fall.
    if (time - this.windowStart >= limit.windowMs || this.failures.size >= TRACKED_ADDRESSES) {
      this.windowStart = time
      this.failures.clear()
    }
    if ((this.failures.get(address) ?? 0) < limit.failures) return undefined
    return Math.max(1, Math.ceil((this.windowStart + limit.windowMs - time) / 1000))
  }

  /** Who a secret belongs to; an unknown one is remembered by its hash and costs no lookup again. */
  async identify(ledger: Ledger, secret: string): Promise<ApiKeyIdentity | undefined> {
    const hash = hashApiKey(secret)
    const time = this.now()
    const until = this.unknownKeys.get(hash)
    if (until !== undefined && until > time) return undefined
    if (until !== undefined) this.unknownKeys.delete(hash)
    const identity = await ledger.authenticateApiKey(secret)
    if (!identity) {
      if (this.unknownKeys.size >= NEGATIVE_CACHE_SIZE)
        this.unknownKeys.delete(this.unknownKeys.keys().next().value as string)
      this.unknownKeys.set(hash, time + NEGATIVE_CACHE_MS)
    }
    return identity
  }

  /** Counts a failed authentication from `address`. */
  fail(address: string): void {
    if (this.limit) this.failures.set(address, (this.failures.get(address) ?? 0) + 1)
  }

  /** How the limit reads in a message, e.g. `30 in 60 s`. */
  describe(): string {
    return this.limit ? `${this.limit.failures} in ${Math.round(this.limit.windowMs / 1000)} s` : ''
  }
}

/**
 * Resolves `Authorization: Bearer <key>` to the key's project and scope on every request, so a
 * revoked key fails on its next request. A request without a key passes on unauthenticated:
 * each route decides whether it needs one. A `Credly-Project` header naming another project
 * than the key's is refused.
 *
 * Guessing keys is made slow and cheap to refuse (see `AuthGuard`): an address with too many
 * failures in a window gets 429 with `Retry-After` before any lookup, and a key just found
 * unknown is remembered (by its hash) for a minute. A key is 128 random bits, so this guards the
 * database, not the keys.
 */
export function authenticate(ledger: Ledger, guard: AuthGuard): MiddlewareHandler<AppEnv> {
  return async function authenticateRequest(c, next) {
    const header = c.req.header('authorization')
    if (header === undefined) {
      c.set('auth', undefined)
      return next()
    }
    const address = clientAddress(c)
    const retryAfter = guard.retryAfter(address)
    if (retryAfter !== undefined) {
      return sendProblem(
        c,
        'rate-limited',
        `Too many requests with unknown or malformed API keys from this address (${guard.describe()}). Check the key, then retry after ${retryAfter} s.`,
        {
          headers: { 'Retry-After': String(retryAfter) },
          extensions: { retry_after_seconds: retryAfter },
        },
      )
    }
    const fail = (detail: string) => {
      guard.fail(address)
      return sendProblem(c, 'unauthorized', detail)
    }

    const match = /^Bearer\s+(\S+)$/i.exec(header)
    if (!match) return fail('The Authorization header must be "Bearer <key>".')
    const identity = await guard.identify(ledger, match[1] as string)
    if (!identity) {
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
export function clientAddress(c: Context): string {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming
  return incoming?.socket?.remoteAddress ?? 'unknown'
}
