import { describe, expect, it } from 'vitest'
import { newId, randomBase32 } from './ids.ts'

describe('ids', () => {
  it('are the prefix and 26 base32 characters, never repeated across refills of the pool', () => {
    // 409 ids use up one 4 KiB pool; 10,000 span 24 refills, most in the same millisecond.
    const ids = Array.from({ length: 10_000 }, () => newId('transaction'))
    for (const id of ids) expect(id).toMatch(/^txn_[0-9a-hjkmnp-tv-z]{26}$/)
    expect(new Set(ids).size).toBe(ids.length)
  })

  it('sort by the millisecond they were made in, and say it', async () => {
    const made: Array<{ id: string; at: number }> = []
    for (let index = 0; index < 5; index++) {
      made.push({ id: newId('grant'), at: Date.now() })
      await new Promise((resolve) => setTimeout(resolve, 2))
    }
    const ids = made.map(({ id }) => id)
    expect([...ids].sort()).toEqual(ids)
    // The first 10 characters are the time (48 bits, Crockford's alphabet).
    const alphabet = '0123456789abcdefghjkmnpqrstvwxyz'
    for (const { id, at } of made) {
      const time = [...id.slice(4, 14)].reduce((sum, char) => sum * 32 + alphabet.indexOf(char), 0)
      // 50 bits encoded; the top 48 are the time.
      expect(Math.floor(time / 4)).toBeGreaterThanOrEqual(at - 2)
      expect(Math.floor(time / 4)).toBeLessThanOrEqual(at)
    }
  })

  it('encodes secrets from bytes of their own', () => {
    expect(randomBase32(16)).toMatch(/^[a-z2-7]{26}$/)
    expect(randomBase32(16)).not.toBe(randomBase32(16))
  })
})
