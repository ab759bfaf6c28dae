import {
  type CredlyClient,
  clientResolver,
  type GateOptions,
  gateRequest,
  type ProblemResponse,
  problemForError,
  runWithRequestCredly,
} from 'credly/internal'
import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express'

/** Options of `credly()` for Express. */
export type CredlyExpressOptions = GateOptions & {
  /** @default a client from the environment (CREDLY_API_KEY..., or CREDLY_DATABASE) */
  client?: CredlyClient
  /**
   * Who the request is for, from your auth. Never a value the browser sends unchecked.
   * @default `req.user.id` (Passport and most auth middleware)
   */
  user?: (req: Request) => string | undefined
  /** Groups the request's transactions. @default the route path, e.g. `/api/chat` */
  featureIdentifier?: string | ((req: Request) => string | undefined)
}

/**
 * Meters the request's user: sets `req.credly`, refuses with a 401 problem when there is no user
 * (or runs unmetered with `onMissingUser: 'pass'`), with a 402 problem when `requireCredits` is
 * set and the user has none, and runs the rest of the request in the context that
 * `credlyMiddleware` from `@credly/ai-sdk` reads.
 *
 * @example
 * ```ts
 * app.use(credly({ user: (req) => req.session?.userId, requireCredits: true }))
 * app.post('/api/chat', async (req, res) => { ... generateText({ model, prompt, abortSignal: getCredly(req).signal }) ... })
 * app.use(credlyErrorHandler())
 * ```
 */
export function credly(options: CredlyExpressOptions = {}): RequestHandler {
  const client = clientResolver(options.client)
  const user = options.user ?? defaultUser
  return async function credlyMiddleware(req, res, next) {
    // Aborts when the client disconnects before the response is done, so a stream settles.
    const aborted = new AbortController()
    res.on('close', () => {
      if (!res.writableFinished) aborted.abort(new Error('The client closed the connection.'))
    })
    const outcome = await gateRequest(
      { userId: user(req), signal: aborted.signal, instance: req.originalUrl },
      await client(),
      options,
    )
    if (outcome.kind === 'deny') {
      send(res, outcome.response)
      return
    }
    req.credly = outcome.credly
    const feature =
      typeof options.featureIdentifier === 'function'
        ? options.featureIdentifier(req)
        : // Mounted at a path (app.use('/api', credly())), req.path is what follows the mount.
          (options.featureIdentifier ?? `${req.baseUrl}${req.path}`)
    runWithRequestCredly(outcome, feature, () => next())
  }
}

/**
 * Turns `InsufficientCreditsError` and `RateLimitError` thrown by a route (e.g. from
 * `credlyMiddleware` around a model) into 402 and 429 problems; passes other errors on.
 * Register it after your routes.
 */
export function credlyErrorHandler(): ErrorRequestHandler {
  return function credlyErrors(error, req, res, next) {
    const problem = problemForError(error, req.originalUrl)
    if (!problem || res.headersSent) {
      next(error)
      return
    }
    send(res, problem)
  }
}

function send(res: Response, problem: ProblemResponse): void {
  res.status(problem.status).set(problem.headers).send(JSON.stringify(problem.body))
}

function defaultUser(req: Request): string | undefined {
  const id = (req as Request & { user?: { id?: unknown } }).user?.id
  return typeof id === 'string' || typeof id === 'number' ? String(id) : undefined
}
