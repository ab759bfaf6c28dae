import assert from 'node:assert/strict'
import { problemType } from '../problem-types.ts'

/** A response as a test sees it, from supertest, `app.request` or fetch. */
export type SeenResponse = {
  status: number
  headers: Headers | Record<string, string | string[] | undefined>
  body: unknown
}

const header = (headers: SeenResponse['headers'], name: string): string | undefined => {
  if (headers instanceof Headers) return headers.get(name) ?? undefined
  const value = headers[name.toLowerCase()]
  return Array.isArray(value) ? value.join(', ') : value
}

/**
 * The 402 every adapter must answer for a user without credits: the same status, content type
 * and body in Express, Hono and Next.js, so they cannot drift.
 */
export function assertInsufficientCredits(
  response: SeenResponse,
  expected: { balance: number; required?: number | null },
): void {
  assert.equal(response.status, 402)
  assert.match(header(response.headers, 'content-type') ?? '', /^application\/problem\+json/)
  const body = response.body as Record<string, unknown>
  assert.equal(body.type, problemType('insufficient-credits'))
  assert.equal(body.title, 'Insufficient credits')
  assert.equal(body.status, 402)
  assert.equal(body.reason, 'insufficient_credits')
  assert.equal(body.balance, expected.balance)
  if (expected.required !== undefined) assert.equal(body.required, expected.required)
  assert.equal(typeof body.detail, 'string')
}

/** The 429 every adapter must answer for a tier's credit rate limit, with its headers. */
export function assertRateLimited(
  response: SeenResponse,
  expected: { limit: number; windowSeconds: number },
): void {
  assert.equal(response.status, 429)
  assert.match(header(response.headers, 'content-type') ?? '', /^application\/problem\+json/)
  const retryAfter = Number(header(response.headers, 'retry-after'))
  assert.ok(retryAfter >= 1 && retryAfter <= expected.windowSeconds, `Retry-After ${retryAfter}`)
  assert.equal(header(response.headers, 'ratelimit'), `"credits";r=0;t=${retryAfter}`)
  assert.equal(
    header(response.headers, 'ratelimit-policy'),
    `"credits";q=${expected.limit};w=${expected.windowSeconds}`,
  )
  const body = response.body as Record<string, unknown>
  assert.equal(body.type, problemType('rate-limited'))
  assert.equal(body.status, 429)
  assert.equal(body.retry_after_seconds, retryAfter)
  assert.equal(body.limit, expected.limit)
}

/** The 401 for a request without a user. */
export function assertMissingUser(response: SeenResponse): void {
  assert.equal(response.status, 401)
  assert.match(header(response.headers, 'content-type') ?? '', /^application\/problem\+json/)
  assert.equal((response.body as Record<string, unknown>).type, problemType('unauthorized'))
}

const CREDLY_ENVIRONMENT = [
  'CREDLY_API_KEY',
  'CREDLY_PROJECT_ID',
  'CREDLY_BASE_URL',
  'CREDLY_DATABASE',
  'CREDLY_CONFIG',
] as const

/**
 * Creating an adapter with no client and no Credly environment must throw at once (at the app's
 * startup), naming what to set, rather than answer its first request with a 500.
 */
export function assertFailsWithoutClient(create: () => unknown): void {
  const saved = CREDLY_ENVIRONMENT.map((name) => [name, process.env[name]] as const)
  for (const name of CREDLY_ENVIRONMENT) delete process.env[name]
  try {
    assert.throws(create, /no client.*CREDLY_API_KEY.*CREDLY_DATABASE/s)
  } finally {
    for (const [name, value] of saved) if (value !== undefined) process.env[name] = value
  }
}
