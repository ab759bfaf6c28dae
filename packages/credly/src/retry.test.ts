import { describe, expect, it } from 'vitest'
import { parseRetryAfterSeconds } from './errors.ts'
import { MAX_RETRY_AFTER_SECONDS, retryDelayMs, shouldRetryStatus } from './retry.ts'

describe('shouldRetryStatus', () => {
  it.each([408, 429, 500, 502, 503, 504])('retries %i', (status) => {
    expect(shouldRetryStatus(status)).toBe(true)
  })
  it.each([400, 401, 402, 403, 404, 409, 413, 422])('does not retry %i', (status) => {
    expect(shouldRetryStatus(status)).toBe(false)
  })
  it('lets the server say so with x-should-retry', () => {
    expect(shouldRetryStatus(503, new Headers({ 'x-should-retry': 'false' }))).toBe(false)
    expect(shouldRetryStatus(409, new Headers({ 'x-should-retry': 'true' }))).toBe(true)
  })
})

describe('retryDelayMs', () => {
  it('honours Retry-After seconds and retry-after-ms', () => {
    expect(retryDelayMs(1, new Headers({ 'retry-after': '3' }))).toBe(3000)
    expect(retryDelayMs(1, new Headers({ 'retry-after-ms': '250' }))).toBe(250)
  })

  it('honours an HTTP-date Retry-After', () => {
    const now = Date.parse('2026-11-24T12:00:00Z')
    const headers = new Headers({ 'retry-after': 'Tue, 24 Nov 2026 12:00:05 GMT' })
    expect(parseRetryAfterSeconds(headers, now)).toBe(5)
  })

  it('ignores a Retry-After longer than the cap and backs off instead', () => {
    const headers = new Headers({ 'retry-after': String(MAX_RETRY_AFTER_SECONDS + 1) })
    expect(retryDelayMs(1, headers, () => 1)).toBe(500)
  })

  it('backs off exponentially with jitter, capped at 8 s', () => {
    expect(retryDelayMs(1, undefined, () => 0)).toBe(125)
    expect(retryDelayMs(1, undefined, () => 1)).toBe(500)
    expect(retryDelayMs(3, undefined, () => 1)).toBe(2000)
    expect(retryDelayMs(10, undefined, () => 1)).toBe(8000)
    for (let index = 0; index < 100; index++) {
      const delay = retryDelayMs(2)
      expect(delay).toBeGreaterThanOrEqual(250)
      expect(delay).toBeLessThanOrEqual(1000)
    }
  })

  it('ignores a garbage Retry-After', () => {
    expect(parseRetryAfterSeconds(new Headers({ 'retry-after': 'soon' }))).toBeUndefined()
  })
})
