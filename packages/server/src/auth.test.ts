import { describe, expect, it } from 'vitest'
import { AuthGuard } from './auth.ts'

describe('AuthGuard', () => {
  it('counts failures made together in one window, however near a minute on the clock they fall', () => {
    // One second before a whole minute on the clock (2026-11-26 12:00:59 UTC).
    const minute = Date.UTC(2026, 10, 26, 12, 1)
    let time = minute - 1_000
    const guard = new AuthGuard({ failures: 2, windowMs: 60_000 }, () => time)
    expect(guard.retryAfter('10.0.0.1')).toBeUndefined()
    guard.fail('10.0.0.1')
    time = minute - 100
    expect(guard.retryAfter('10.0.0.1')).toBeUndefined()
    guard.fail('10.0.0.1')
    // Past the minute, a window aligned to the clock would have started over here.
    time = minute + 100
    expect(guard.retryAfter('10.0.0.1')).toBe(59)
    expect(guard.retryAfter('10.0.0.2')).toBeUndefined()
    // The window ends a minute after it opened: then the address may try again.
    time = minute + 59_000
    expect(guard.retryAfter('10.0.0.1')).toBeUndefined()
  })
})
