import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import {
  ConflictError,
  CredlyApiError,
  CredlyError,
  ForbiddenError,
  InsufficientCreditsError,
  NotFoundError,
  RateLimitError,
  ServerError,
  UnauthorizedError,
  ValidationError,
} from './errors.ts'
import { problemSlug, problemSlugs } from './problem-types.ts'

describe('CredlyApiError.fromResponse', () => {
  it.each([
    [400, ValidationError],
    [401, UnauthorizedError],
    [402, InsufficientCreditsError],
    [403, ForbiddenError],
    [404, NotFoundError],
    [409, ConflictError],
    [429, RateLimitError],
    [500, ServerError],
    [503, ServerError],
  ] as const)('maps %i to %o', (status, Class) => {
    const error = CredlyApiError.fromResponse(status, { title: 't', status })
    expect(error).toBeInstanceOf(Class)
    expect(error.status).toBe(status)
    expect(error.name).toBe(Class.name)
  })

  it('keeps a 402 problem’s balance, required credits and reason', () => {
    const error = CredlyApiError.fromResponse(402, {
      type: 'https://example.com/problems#insufficient-credits',
      title: 'Insufficient credits',
      status: 402,
      detail: 'needs 3, has 1',
      balance: 1,
      required: 3,
      reason: 'insufficient_credits',
    }) as InsufficientCreditsError
    expect(error).toMatchObject({
      balance: 1,
      required: 3,
      reason: 'insufficient_credits',
      detail: 'needs 3, has 1',
    })
    expect(error.message).toBe(
      '402 Insufficient credits: needs 3, has 1 See https://example.com/problems#insufficient-credits',
    )
  })

  it('uses a { error } or { message } body from a proxy as the detail', () => {
    expect(CredlyApiError.fromResponse(502, { error: 'upstream closed' }).detail).toBe(
      'upstream closed',
    )
    expect(CredlyApiError.fromResponse(400, { message: 'bad' }).detail).toBe('bad')
  })

  it('falls back to the status text for an empty body', () => {
    const error = CredlyApiError.fromResponse(503, undefined)
    expect(error.title).toBe('Service Unavailable')
    expect(error.type).toBe('about:blank')
    expect(error.message).toBe('503 Service Unavailable')
  })

  it('reads retry_after_seconds from the body, else Retry-After', () => {
    const fromHeader = CredlyApiError.fromResponse(
      429,
      {},
      new Headers({ 'retry-after': '7' }),
    ) as RateLimitError
    expect(fromHeader.retryAfterSeconds).toBe(7)
    const fromBody = CredlyApiError.fromResponse(429, { retry_after_seconds: 2 }) as RateLimitError
    expect(fromBody.retryAfterSeconds).toBe(2)
  })
})

describe('isInstance', () => {
  it('recognises errors across package copies by their marker, not their prototype', () => {
    const error = new NotFoundError({ status: 404, title: 'Not Found' })
    // What a second copy of the package would see: same marker, foreign prototype.
    const foreign = Object.setPrototypeOf(error, Error.prototype) as unknown
    expect(foreign instanceof NotFoundError).toBe(false)
    expect(NotFoundError.isInstance(foreign)).toBe(true)
    expect(CredlyApiError.isInstance(foreign)).toBe(true)
    expect(CredlyError.isInstance(foreign)).toBe(true)
    expect(ConflictError.isInstance(foreign)).toBe(false)
    expect(CredlyError.isInstance(new Error('plain'))).toBe(false)
  })
})

describe('docs/problems.md', () => {
  it('has one heading for every problem kind, and none for a kind that does not exist', () => {
    const docs = readFileSync(new URL('../../../docs/problems.md', import.meta.url), 'utf8')
    const headings = [...docs.matchAll(/^## (\S+)$/gm)].map((match) => match[1])
    expect(headings.sort()).toEqual([...problemSlugs].sort())
  })
})

describe('CredlyApiError.fromKind', () => {
  it('builds the error of a problem kind: its class, status, title and type', () => {
    const missing = CredlyApiError.fromKind('user-not-found', 'No user "ann".')
    expect(NotFoundError.isInstance(missing)).toBe(true)
    expect(missing).toMatchObject({ status: 404, title: 'Not Found', detail: 'No user "ann".' })
    expect(problemSlug(missing.type)).toBe('user-not-found')
    const range = CredlyApiError.fromKind('out-of-range', 'Too much.', {
      errors: [{ path: 'credits', message: 'past the limit' }],
    })
    expect(ValidationError.isInstance(range)).toBe(true)
    expect((range as ValidationError).errors).toEqual([
      { path: 'credits', message: 'past the limit' },
    ])
  })
})
