import { describe, expect, it } from 'vitest'
import { ValidationError } from './errors.ts'
import { startUsageRequestSchema } from './schemas/transactions.ts'
import { parseOrThrow } from './validate.ts'

describe('parseOrThrow', () => {
  const request = {
    user_id: 'ann',
    model: 'gpt-4o',
    provisional_tokens: { input_tokens: 10 },
  }

  it('checks an object it parsed for a schema once: parsing its output again returns it', () => {
    const parsed = parseOrThrow(startUsageRequestSchema, request, 'request')
    expect(parsed).not.toBe(request)
    expect(parseOrThrow(startUsageRequestSchema, parsed, 'request')).toBe(parsed)
  })

  it('checks any other object, however like a parsed one it looks', () => {
    const parsed = parseOrThrow(startUsageRequestSchema, request, 'request')
    const copy = { ...parsed, provisional_tokens: { input_tokens: -1 } }
    expect(() => parseOrThrow(startUsageRequestSchema, copy, 'request')).toThrow(ValidationError)
    expect(() =>
      parseOrThrow(startUsageRequestSchema, { ...request, user_id: '' }, 'request'),
    ).toThrow(ValidationError)
  })
})
