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
 * The schema each object this module parsed came out of. The server parses a request's body and
 * hands the result to the ledger, which parses what it is given: the same object and schema are
 * then not checked twice. Only this module's own outputs are in it (callers cannot add to it), and
 * none of them is changed after it is parsed.
 */
const parsedBy = new WeakMap<object, z.ZodType>()

/**
 * Parses `value` with `schema`, or throws a `ValidationError` naming every bad field. Used by the
 * client before any network call and by the server and ledger on what they receive. `field`
 * names a lone value (e.g. a user id from a path) in the field errors. An object this function
 * already returned for the same schema is returned as it is.
 */
export function parseOrThrow<S extends z.ZodType>(
  schema: S,
  value: unknown,
  what: string,
  field?: string,
): z.output<S> {
  if (typeof value === 'object' && value !== null && parsedBy.get(value) === schema)
    return value as z.output<S>
  const result = schema.safeParse(value)
  if (result.success) {
    if (typeof result.data === 'object' && result.data !== null) parsedBy.set(result.data, schema)
    return result.data
  }
  throw CredlyApiError.fromKind('validation-error', `${what} is invalid`, {
    errors: toFieldErrors(result.error, field),
  })
}
