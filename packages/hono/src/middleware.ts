import {
  type CredlyClient,
  clientResolver,
  type GateOptions,
  gateRequest,
  type ProblemResponse,
  problemForError,
  type RequestCredly,
  runWithRequestCredly,
} from 'credly/internal'
import type { Context, MiddlewareHandler } from 'hono'
import { createMiddleware } from 'hono/factory'
import type { ContentfulStatusCode } from 'hono/utils/http-status'

/** The variables `credly()` sets: `c.var.credly`. */
export type CredlyVariables = { credly: RequestCredly }

/**
 * The env of an app (or sub-app) whose routes all run behind `credly()`:
 * `new Hono<CredlyEnv>()`. Chaining (`new Hono().use(credly()).post(...)`) types `c.var.credly`
 * too. Routes without the middleware do not see it, so they cannot read a `credly` that is not
 * there.
 */
export type CredlyEnv = { Variables: CredlyVariables }

/** Options of `credly()` for Hono. */
export type CredlyHonoOptions = GateOptions & {
  /** @default a client from the environment (CREDLY_API_KEY..., or CREDLY_DATABASE) */
  client?: CredlyClient
  /**
   * Who the request is for, from your auth. Never a value the browser sends unchecked.
   * @default `c.get('user')?.id`, else `c.get('userId')`
   */
  user?: (c: Context) => string | undefined
  /** Groups the request's transactions. @default the request path, e.g. `/api/chat` */
  featureIdentifier?: string | ((c: Context) => string | undefined)
}

/**
 * Meters the request's user: sets `c.var.credly`, answers 401 without a user, 402 when
 * `requireCredits` is set and the user has none, and 402 or 429 when a handler throws
 * `InsufficientCreditsError` or `RateLimitError` (e.g. from `credlyMiddleware` around a model).
 *
 * @example
 * ```ts
 * const app = new Hono().use(credly({ user: (c) => c.get('session')?.userId }))
 * app.post('/api/chat', (c) => streamText({ model, prompt, abortSignal: c.var.credly.signal }).toTextStreamResponse())
 * ```
 */
export function credly(options: CredlyHonoOptions = {}): MiddlewareHandler<CredlyEnv> {
  const client = clientResolver(options.client)
  const user = options.user ?? defaultUser
  return createMiddleware<CredlyEnv>(async function credlyMiddleware(c, next) {
    const outcome = await gateRequest(
      { userId: user(c), signal: c.req.raw.signal, instance: c.req.path },
      await client(),
      options,
    )
    if (outcome.kind === 'deny') return send(c, outcome.response)
    if (outcome.credly) c.set('credly', outcome.credly)
    const feature =
      typeof options.featureIdentifier === 'function'
        ? options.featureIdentifier(c)
        : (options.featureIdentifier ?? c.req.path)
    await runWithRequestCredly(outcome, feature, () => next())
    const problem = c.error ? problemForError(c.error, c.req.path) : undefined
    if (problem) {
      // A handler threw a Credly error, and Hono has put its error answer (a 500, or the app's
      // onError) in c.res. Mark the error handled, and drop that answer first: assigning over it
      // would carry its headers (a text/plain content type) into the problem.
      c.error = undefined
      c.res = undefined
      c.res = send(c, problem)
    }
  })
}

function send(c: Context, problem: ProblemResponse): Response {
  // A problem's status is a 4xx or 5xx with a body; Hono types statuses as literals.
  return c.body(
    JSON.stringify(problem.body),
    problem.status as ContentfulStatusCode,
    problem.headers,
  )
}

function defaultUser(c: Context): string | undefined {
  const user = c.get('user' as never) as { id?: unknown } | undefined
  const id = user?.id ?? c.get('userId' as never)
  return typeof id === 'string' || typeof id === 'number' ? String(id) : undefined
}
