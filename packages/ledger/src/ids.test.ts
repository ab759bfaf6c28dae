import { describe, expect, it } from 'vitest'
import { newId, randomBase32 } from './ids.ts'

describe('ids', () => {
  it('are the prefix and 26 base32 characters, never repeated across refills of the pool', () => {
    // 256 ids use up one 4 KiB pool; 10,000 span 40 refills.
    const ids = Array.from({ length: 10_000 }, () => newId('transaction'))
    for (const id of ids) expect(id).toMatch(/^txn_[a-z2-7]{26}$/)
    expect(new Set(ids).size).toBe(ids.length)
  })

  it('encodes secrets from bytes of their own', () => {
    expect(randomBase32(16)).toMatch(/^[a-z2-7]{26}$/)
    expect(randomBase32(16)).not.toBe(randomBase32(16))
  })
})
