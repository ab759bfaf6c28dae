import { hash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { requestHash } from './idempotency.ts'

describe('requestHash', () => {
  it('hashes the canonical JSON: keys sorted, undefined fields left out, arrays in order', () => {
    // Stored hashes are compared with new ones after an upgrade: this text must never change.
    const canonical = '{"a":[1,{"c":"x","d":null},null],"b":"é\\"","e":{}}'
    expect(
      requestHash({ e: {}, b: 'é"', skipped: undefined, a: [1, { d: null, c: 'x' }, undefined] }),
    ).toBe(hash('sha256', canonical, 'base64url'))
  })

  it('tells apart requests that differ in a nested value or in array order', () => {
    const base = requestHash({ tokens: { input: 1, output: 2 }, parts: [1, 2] })
    expect(requestHash({ parts: [1, 2], tokens: { output: 2, input: 1 } })).toBe(base)
    expect(requestHash({ tokens: { input: 1, output: 3 }, parts: [1, 2] })).not.toBe(base)
    expect(requestHash({ tokens: { input: 1, output: 2 }, parts: [2, 1] })).not.toBe(base)
  })
})
