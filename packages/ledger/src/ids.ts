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
 * A new id: the prefix, then 16 bytes in base32, e.g. `txn_01jb8...`: the time in milliseconds (6
 * bytes) and 10 random bytes, as a ULID or UUIDv7 has them. Ids made in a later millisecond sort
 * after (an order-preserving alphabet), so a new row's id lands beside the last ones in its index
 * rather than on a random page of it: a batch of inserts changes a few pages, not one each (1.15x
 * embedded, more as a table grows). The random part keeps two processes from colliding and the
 * ids unguessable; they say when they were made, which `created_at` says anyway. The bytes come
 * from a pool refilled 4 KiB at a time from the CSPRNG: a `randomBytes` call per id was 3% of a
 * metered call's time.
 */
export function newId(kind: keyof typeof idPrefixes): string {
  if (poolOffset + 10 > pool.length) {
    pool = randomBytes(4096)
    poolOffset = 0
  }
  let time = Date.now()
  for (let index = 5; index >= 0; index--) {
    idBytes[index] = time % 256
    time = Math.floor(time / 256)
  }
  idBytes.set(pool.subarray(poolOffset, poolOffset + 10), 6)
  poolOffset += 10
  return `${idPrefixes[kind]}_${base32(idBytes, SORTABLE)}`
}

const idBytes = new Uint8Array(16)
let pool: Uint8Array = new Uint8Array(0)
let poolOffset = 0

/** `byteCount` random bytes of their own (for secrets) in lowercase base32. */
export function randomBase32(byteCount: number): string {
  return base32(randomBytes(byteCount), RFC_4648)
}

/** Base32 alphabets, lowercase: RFC 4648's, and Crockford's, whose order is the values' order. */
const RFC_4648 = 'abcdefghijklmnopqrstuvwxyz234567'
const SORTABLE = '0123456789abcdefghjkmnpqrstvwxyz'

/** Bytes in base32 (no padding). */
function base32(bytes: Uint8Array, alphabet: string): string {
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
