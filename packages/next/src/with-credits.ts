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

/** Options of `withCredits`. */
export type WithCreditsOptions<TRequest extends Request = Request> = GateOptions & {
  /** @default a client from the environment (CREDLY_API_KEY..., or CREDLY_DATABASE) */
  client?: CredlyClient
  /**
   * Who the request is for, from your auth (e.g. `(await auth())?.user?.id`). Never a value the
   * browser sends unchecked. Without it, every request is answered 401.
   */
  user?: (request: TRequest) => string | undefined | Promise<string | undefined>
  /** Groups the request's transactions. @default the request path, e.g. `/api/chat` */
  featureIdentifier?: string | ((request: TRequest) => string | undefined)
}

/**
 * Next's route context: the dynamic segments of the route, e.g. `RouteContext<{ slug: string }>`
 * for `app/api/chat/[slug]/route.ts`.
 */
export type RouteContext<TParams = Record<string, string | string[] | undefined>> = {
  params: Promise<TParams>
}

/** The handler's second argument: Next's route context plus `credly`. */
export type WithCreditsContext<TContext> = TContext & { credly: RequestCredly }

/**
 * Wraps an App Router route handler: resolves the user, refuses with 401 (no user) or 402
 * (`requireCredits`), passes `credly` in the handler's context, runs the handler in the request
 * context `credlyMiddleware` reads, and turns `InsufficientCreditsError` / `RateLimitError`
 * thrown by it into 402 / 429 problems. `credly.signal` is the request's own abort signal.
 *
 * @example
 * ```ts
 * // app/api/chat/route.ts
 * export const POST = withCredits(
 *   async (request, { credly }) => streamText({ model, prompt, abortSignal: credly.signal }).toTextStreamResponse(),
 *   { user: async () => (await auth())?.user?.id, requireCredits: true },
 * )
 * ```
 */
export function withCredits<TRequest extends Request = Request, TContext = RouteContext>(
  handler: (
    request: TRequest,
    context: WithCreditsContext<TContext>,
  ) => Response | Promise<Response>,
  options: WithCreditsOptions<TRequest> = {},
): (request: TRequest, context: TContext) => Promise<Response> {
  // `next build` loads route modules to collect their data, often without the app's secrets:
  // there the check waits for the first request; `next start` and `next dev` check at once.
  const client = clientResolver(options.client, {
    eager: process.env.NEXT_PHASE !== 'phase-production-build',
  })
  return async function withCreditsHandler(request, context) {
    const path = new URL(request.url).pathname
    const userId = await options.user?.(request)
    const outcome = await gateRequest(
      { userId, signal: request.signal, instance: path },
      await client(),
      options,
    )
    if (outcome.kind === 'deny') return send(outcome.response)
    const feature =
      typeof options.featureIdentifier === 'function'
        ? options.featureIdentifier(request)
        : (options.featureIdentifier ?? path)
    try {
      return await runWithRequestCredly(outcome, feature, () =>
        handler(request, {
          ...(context as object),
          credly: outcome.credly,
        } as WithCreditsContext<TContext>),
      )
    } catch (error) {
      const problem = problemForError(error, path)
      if (problem) return send(problem)
      throw error
    }
  }
}

function send(problem: ProblemResponse): Response {
  return new Response(JSON.stringify(problem.body), {
    status: problem.status,
    headers: problem.headers,
  })
}
