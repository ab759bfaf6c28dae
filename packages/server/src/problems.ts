import {
  CredlyApiError,
  type ProblemBody,
  type ProblemSlug,
  problemBody,
  problemKinds,
  problemSlug,
  problemSlugs,
  ValidationError,
} from 'credly/internal'
import type { Context } from 'hono'

/** Sends a problem as `application/problem+json`. */
export function sendProblem(
  c: Context,
  slug: ProblemSlug,
  detail: string,
  options: { extensions?: Record<string, unknown>; headers?: Record<string, string> } = {},
): Response {
  return problemResponse(
    c,
    problemBody(slug, detail, { instance: c.req.path, ...options.extensions }),
    options.headers,
  )
}

/** Sends a problem body through the context, keeping headers middleware set (the request id). */
export function problemResponse(
  c: Context,
  body: ProblemBody,
  headers: Record<string, string> = {},
): Response {
  return c.newResponse(JSON.stringify(body), body.status as 400, {
    'content-type': 'application/problem+json',
    ...headers,
  })
}

/**
 * Renders any error as a problem: Credly's own errors (from validation or the ledger) keep their
 * status, type and detail; anything else is a bare 500 with no internals, logged by the caller.
 */
export function errorToProblem(error: unknown, instance: string): ProblemBody {
  if (CredlyApiError.isInstance(error)) {
    const slug = problemSlug(error.type) ?? slugForStatus(error.status)
    return {
      ...problemBody(slug, error.detail ?? error.title),
      status: error.status,
      title: error.title,
      instance,
      ...(ValidationError.isInstance(error) ? { errors: error.errors } : {}),
    }
  }
  return problemBody(
    'internal-error',
    'The server failed to handle this request. It has been logged.',
    { instance },
  )
}

/**
 * The kind for an error of another type: the first kind of that status in the one table
 * (`validation-error` for a 400, `not-found` for a 404...), else `internal-error`.
 */
function slugForStatus(status: number): ProblemSlug {
  return problemSlugs.find((slug) => problemKinds[slug].status === status) ?? 'internal-error'
}
