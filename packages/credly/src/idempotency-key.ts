/**
 * A new idempotency key: a UUID version 7 (RFC 9562, section 5.7), the time in milliseconds and
 * then 74 random bits, e.g. `019ac0a4-5d3e-7b21-9f0c-6a1d2e3f4b5c`. Keys made in a later
 * millisecond sort after earlier ones, so the server's index of keys (kept seven days) grows at its
 * end: a random key (version 4) lands on a page of its own in that index for every call, which
 * the database then writes and, once the index outgrows memory, reads first. Unique and
 * unguessable as a version 4 key is, through the random bits. Web Crypto only, so it runs wherever
 * the client does.
 */
export function newIdempotencyKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16))
  let time = Date.now()
  for (let index = 5; index >= 0; index--) {
    bytes[index] = time % 256
    time = Math.floor(time / 256)
  }
  bytes[6] = ((bytes[6] as number) & 0x0f) | 0x70 // version 7
  bytes[8] = ((bytes[8] as number) & 0x3f) | 0x80 // variant 10 (RFC 9562)
  let key = ''
  for (let index = 0; index < 16; index++) {
    if (index === 4 || index === 6 || index === 8 || index === 10) key += '-'
    key += HEX[bytes[index] as number]
  }
  return key
}

const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'))
