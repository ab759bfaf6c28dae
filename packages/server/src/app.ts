import type { Ledger } from '@credly/ledger'
import { Hono } from 'hono'
import { requestId } from 'hono/request-id'
import type { AppEnv } from './app-env.ts'
import { AuthGuard, authenticate, type FailedAuthLimit } from './auth.ts'
import { bodyLimit } from './body-limit.ts'
import { registerDashboard } from './dashboard/dashboard.ts'
import { type Logger, silentLogger } from './logger.ts'
import { Metrics } from './metrics.ts'
import { errorToProblem, problemResponse, sendProblem } from './problems.ts'
import { type ApiRateLimit, rateLimit } from './rate-limit.ts'
import type { RouteRegistry } from './route.ts'
import { registerProjectRoutes } from './routes/project.ts'
import { registerReportRoutes } from './routes/reports.ts'
import { registerSystemRoutes } from './routes/system.ts'
import { registerTransactionRoutes } from './routes/transactions.ts'
import { registerUsageRoutes } from './routes/usage.ts'
import { registerUserRoutes } from './routes/users.ts'

/** What `createApp` needs. */
export type AppOptions = {
  ledger: Ledger
  /** @default a logger that drops everything */
  logger?: Logger
  /** The largest request body accepted, in bytes; larger is a 413 problem. @default 65536 */
  bodyLimitBytes?: number
  /**
   * Requests per key per window in this process, or false for none. Off by default: spending is
   * bounded by the ledger's credit rate limits, and a request limit below an instance's capacity
   * would throttle the app it serves (docs/security.md). @default false
   */
  rateLimit?: ApiRateLimit | false
  /**
   * Failed authentications per client address per window before that address gets 429, or
   * false for no limit. @default { failures: 30, windowMs: 60000 }
   */
  failedAuthLimit?: FailedAuthLimit | false
  /** Serve the operator's dashboard at `/dashboard` (docs/dashboard.md). @default true */
  dashboard?: boolean
}

/** What each `register*Routes` gets. */
export type RouteDeps = {
  app: Hono<AppEnv>
  registry: RouteRegistry
  ledger: Ledger
  metrics: Metrics
}

/** The default request body limit: far above any valid Credly request. */
export const DEFAULT_BODY_LIMIT_BYTES = 64 * 1024

/**
 * The Credly HTTP API as a Hono app (no listening: `startServer` does that, tests call
 * `app.request`). Every response is JSON or an RFC 9457 problem; nothing a client sends
 * produces a 500.
 */
export function createApp(options: AppOptions): Hono<AppEnv> {
  const logger = options.logger ?? silentLogger
  const metrics = new Metrics()
  const registry: RouteRegistry = []
  const app = new Hono<AppEnv>()
  const bodyLimitBytes = options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES

  app.use(requestId())
  app.use(async function logRequest(c, next) {
    const started = performance.now()
    await next()
    const seconds = (performance.now() - started) / 1000
    const operation = c.get('operationId') ?? 'unmatched'
    metrics.record(operation, c.res.status, seconds)
    logger.info('request', {
      method: c.req.method,
      path: c.req.path,
      operation,
      status: c.res.status,
      duration_ms: Math.round(seconds * 1000 * 100) / 100,
      request_id: c.get('requestId'),
      project_id: c.get('auth')?.project_id,
    })
  })
  app.use(
    bodyLimit(bodyLimitBytes, (c) =>
      sendProblem(
        c,
        'payload-too-large',
        `The request body is over the ${bodyLimitBytes}-byte limit of this server.`,
      ),
    ),
  )
  const guard = new AuthGuard(options.failedAuthLimit)
  app.use(authenticate(options.ledger, guard))
  if (options.rateLimit) app.use(rateLimit(options.rateLimit))

  const deps: RouteDeps = { app, registry, ledger: options.ledger, metrics }
  registerUsageRoutes(deps)
  registerReportRoutes(deps)
  registerUserRoutes(deps)
  registerTransactionRoutes(deps)
  registerProjectRoutes(deps)
  registerSystemRoutes(deps)
  if (options.dashboard ?? true) registerDashboard(app, options.ledger, guard)

  app.notFound((c) =>
    sendProblem(
      c,
      'not-found',
      `No route ${c.req.method} ${c.req.path}. The API is described at /openapi.json.`,
    ),
  )
  app.onError((error, c) => {
    const body = errorToProblem(error, c.req.path)
    if (body.status >= 500) {
      logger.error('unhandled error', {
        request_id: c.get('requestId'),
        error:
          error instanceof Error
            ? { name: error.name, message: error.message, stack: error.stack }
            : String(error),
      })
    }
    return problemResponse(c, body)
  })
  return app
}
