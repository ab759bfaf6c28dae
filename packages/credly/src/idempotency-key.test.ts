import { afterEach, describe, expect, it, vi } from 'vitest'
import { newIdempotencyKey } from './idempotency-key.ts'

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

describe('newIdempotencyKey', () => {
  afterEach(() => vi.useRealTimers())

  it('is a UUID version 7 whose first 48 bits are the time in milliseconds', () => {
    vi.useFakeTimers({ now: Date.UTC(2026, 10, 26, 12, 0, 0, 123), toFake: ['Date'] })
    const key = newIdempotencyKey()
    expect(key).toMatch(UUID_V7)
    expect(Number.parseInt(key.replace(/-/g, '').slice(0, 12), 16)).toBe(
      Date.UTC(2026, 10, 26, 12, 0, 0, 123),
    )
  })

  it('sorts a key made in a later millisecond after an earlier one', () => {
    const keys: string[] = []
    for (let ms = 0; ms < 300; ms++) {
      vi.useFakeTimers({ now: 1_764_158_400_000 + ms * 257, toFake: ['Date'] })
      keys.push(newIdempotencyKey())
    }
    expect([...keys].sort()).toEqual(keys)
  })

  it('makes distinct keys within one millisecond', () => {
    vi.useFakeTimers({ now: 1_764_158_400_000, toFake: ['Date'] })
    const keys = new Set(Array.from({ length: 10_000 }, newIdempotencyKey))
    expect(keys.size).toBe(10_000)
    for (const key of keys) expect(key).toMatch(UUID_V7)
  })
})
