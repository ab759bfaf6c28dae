import { randomBytes } from 'node:crypto'

/** Prefixes of every id the ledger makes, so an id says what it names. */
export const idPrefixes = {
  project: 'prj',
  user: 'usr',
  transaction: 'txn',
  grant: 'grt',
  refill: 'rfl',
  apiKey: 'key',
} as const

/**
 * A new id: the prefix, then 16 random bytes in base32 (lowercase), e.g. `txn_k3v...`. Random
 * rather than sequential, so ids reveal nothing and two processes never collide.
 */
export function newId(kind: keyof typeof idPrefixes): string {
  return `${idPrefixes[kind]}_${randomBase32(16)}`
}

/** `bytes` random bytes in lowercase base32 (RFC 4648 alphabet, no padding). */
export function randomBase32(byteCount: number): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567'
  const bytes = randomBytes(byteCount)
  let bits = 0
  let value = 0
  let out = ''
  for (const byte of bytes) {
    value = (value << 8) | byte
    bits += 8
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31]
      bits -= 5
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31]
  return out
}
