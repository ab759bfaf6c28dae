import type { z } from 'zod'
import { CredlyApiError } from './errors.ts'
import type { FieldError } from './schemas/problem.ts'

/** Field errors from a zod error: a dotted path (`finalized_tokens.input_tokens`) and a message. */
export function toFieldErrors(error: z.ZodError, field?: string): FieldError[] {
  return error.issues.map((issue) => ({
    path: [...(field === undefined ? [] : [field]), ...issue.path.map(String)].join('.'),
    message: issue.message,
  }))
}

/**
 * Parses `value` with `schema`, or throws a `ValidationError` naming every bad field. Used by the
 * client before any network call and by the server and ledger on what they receive. `field`
 * names a lone value (e.g. a user id from a path) in the field errors.
 */
export function parseOrThrow<S extends z.ZodType>(
  schema: S,
  value: unknown,
  what: string,
  field?: string,
): z.output<S> {
  const result = schema.safeParse(value)
  if (result.success) return result.data
  throw CredlyApiError.fromKind('validation-error', `${what} is invalid`, {
    errors: toFieldErrors(result.error, field),
  })
}
