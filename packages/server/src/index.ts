export { type AppOptions, createApp, DEFAULT_BODY_LIMIT_BYTES } from './app.ts'
export type { AppEnv } from './app-env.ts'
export { DEFAULT_FAILED_AUTH_LIMIT, type FailedAuthLimit } from './auth.ts'
export { jsonLogger, type Logger, silentLogger } from './logger.ts'
export { buildOpenApiDocument } from './openapi.ts'
export type { ApiRateLimit } from './rate-limit.ts'
export {
  type ConnectionLimits,
  DEFAULT_CONNECTION_LIMITS,
  type RunningServer,
  startServer,
} from './serve.ts'
