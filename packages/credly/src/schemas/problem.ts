import { z } from 'zod'

/** One field that failed validation: a dotted path into the body and what was wrong with it. */
export const fieldErrorSchema = z.object({
  path: z.string(),
  message: z.string(),
})
export type FieldError = z.infer<typeof fieldErrorSchema>

/**
 * An RFC 9457 problem details body (`application/problem+json`), as every Credly error response
 * is. Extra members (e.g. `balance`, `required`, `retry_after_seconds`) pass through.
 */
export const problemSchema = z.looseObject({
  type: z.string().default('about:blank'),
  title: z.string(),
  status: z.number().int(),
  detail: z.string().optional(),
  instance: z.string().optional(),
  errors: z.array(fieldErrorSchema).optional(),
})
export type Problem = z.infer<typeof problemSchema>
