import { VERSION } from 'credly'
import { createApp } from '../app.ts'
import { DEFAULT_FAILED_AUTH_LIMIT } from '../auth.ts'
import { jsonLogger, lineBuffer } from '../logger.ts'
import { createProjectWithKeys } from '../project-with-keys.ts'
import { DEFAULT_CONNECTION_LIMITS, startServer } from '../serve.ts'

import {
  databaseName,
  databaseOption,
  describeError,
  isMissingFile,
  isPostgresUrl,
  type Output,
  openLedger,
  parse,
  projectOption,
  readConfig,
  redact,
  resolveProject,
  seconds,
  UsageError,
  wholeNumber,
} from './shared.ts'

/** `credly serve`: the HTTP API until SIGTERM or SIGINT, which finish the requests in flight. */
export async function serveCommand(
  args: string[],
  output: Output,
  signals: NodeJS.EventEmitter,
): Promise<number> {
  const { values } = parse(args, {
    config: { type: 'string' },
    port: { type: 'string' },
    host: { type: 'string' },
    'rate-limit': { type: 'string' },
    'failed-auth-limit': { type: 'string' },
    'max-connections': { type: 'string' },
    'headers-timeout': { type: 'string' },
    'request-timeout': { type: 'string' },
    'keep-alive-timeout': { type: 'string' },
    'key-cache': { type: 'string' },
    'pg-pool': { type: 'string' },
    'pg-write-transactions': { type: 'string' },
    ...databaseOption,
    ...projectOption,
  })
  const port = values.port === undefined ? Number(process.env.PORT ?? 8787) : Number(values.port)
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new UsageError(`--port must be a whole number from 0 to 65535, not "${values.port}".`)
  const rateLimit = wholeNumber(values, 'rate-limit', 0)
  const failedAuthLimit = wholeNumber(
    values,
    'failed-auth-limit',
    DEFAULT_FAILED_AUTH_LIMIT.failures,
  )
  const limits = {
    maxConnections: wholeNumber(
      values,
      'max-connections',
      DEFAULT_CONNECTION_LIMITS.maxConnections,
      1,
    ),
    headersTimeoutMs: seconds(
      values,
      'headers-timeout',
      DEFAULT_CONNECTION_LIMITS.headersTimeoutMs,
    ),
    requestTimeoutMs: seconds(
      values,
      'request-timeout',
      DEFAULT_CONNECTION_LIMITS.requestTimeoutMs,
    ),
    keepAliveTimeoutMs: seconds(
      values,
      'keep-alive-timeout',
      DEFAULT_CONNECTION_LIMITS.keepAliveTimeoutMs,
    ),
  }
  if (limits.headersTimeoutMs > limits.requestTimeoutMs)
    throw new UsageError('--headers-timeout must not be longer than --request-timeout.')
  const config = values.config === undefined ? undefined : readConfig(values.config)
  const logger = jsonLogger(lineBuffer(output.out))
  const name = databaseName(values.database)
  const postgres = isPostgresUrl(name)
  for (const option of ['pg-pool', 'pg-write-transactions'] as const)
    if (values[option] !== undefined && !postgres)
      throw new UsageError(`--${option} applies to a PostgreSQL database (a postgres:// URL) only.`)
  const keyCacheSeconds = wholeNumber(values, 'key-cache', 10)
  if (keyCacheSeconds > 3600)
    throw new UsageError(`--key-cache must be at most 3600 seconds, not "${values['key-cache']}".`)
  const pgPool = wholeNumber(values, 'pg-pool', 10, 1)
  const writeTransactions = wholeNumber(values, 'pg-write-transactions', 2, 1)
  if (writeTransactions > pgPool)
    throw new UsageError(
      `--pg-write-transactions (${writeTransactions}) must not be more than --pg-pool (${pgPool}): each runs on a connection of the pool.`,
    )
  if (!config && isMissingFile(name))
    throw new UsageError(
      `there is no database at "${name}". Check --database (or DATABASE_URL), create one with \`credly init --config FILE --database ${name}\`, or pass --config FILE to create it now.`,
    )
  const { ledger, store, database } = openLedger(name, {
    store: postgres ? { maxConnections: pgPool, writeTransactions } : {},
    ledger: { apiKeyCacheMs: keyCacheSeconds * 1000 },
  })
  try {
    await store.ready()
    if (!config && (await ledger.listProjects()).length === 0)
      throw new UsageError(
        `the database "${redact(name)}" has no project. Create one with \`credly init --config FILE\`, or pass --config FILE to create it now.`,
      )
  } catch (error) {
    await store.close()
    throw error
  }

  if (config) {
    const projects = await ledger.listProjects()
    if (projects.length === 0) {
      const created = await createProjectWithKeys(ledger, config)
      logger.info('project created; these keys are shown once', created)
    } else {
      const projectId = await resolveProject(ledger, values.project)
      await ledger.updateProjectConfig(projectId, config)
      logger.info('project config loaded', { project_id: projectId, config_file: values.config })
    }
  }

  const stopSweeper = ledger.startSweeper({
    onError: (error) => logger.error('sweep failed', { error: describeError(error) }),
  })
  let server: Awaited<ReturnType<typeof startServer>>
  try {
    server = await startServer(
      createApp({
        ledger,
        logger,
        rateLimit: rateLimit > 0 ? { requests: rateLimit, windowMs: 60_000 } : false,
        failedAuthLimit: failedAuthLimit > 0 ? { failures: failedAuthLimit } : false,
      }),
      { port, host: values.host ?? '127.0.0.1', limits },
    )
  } catch (error) {
    stopSweeper()
    await store.close()
    throw error
  }
  return new Promise<number>((resolve) => {
    let stopping = false
    const stop = (signal: string) => {
      if (stopping) return
      stopping = true
      logger.info('shutting down: finishing requests in flight', { signal })
      stopSweeper()
      void server
        .close()
        .then(() => store.close())
        .then(() => {
          logger.info('stopped')
          signals.off('SIGTERM', onTerm)
          signals.off('SIGINT', onInt)
          resolve(0)
        })
    }
    const onTerm = () => stop('SIGTERM')
    const onInt = () => stop('SIGINT')
    signals.on('SIGTERM', onTerm)
    signals.on('SIGINT', onInt)
    // Said only once the signals are handled: whoever waits for this line may stop us at once.
    logger.info('listening', {
      url: server.url,
      database: redact(database),
      store: store.kind,
      version: VERSION,
      limits: {
        rate_limit_per_minute: rateLimit,
        failed_auth_limit_per_minute: failedAuthLimit,
        ...limits,
      },
    })
  })
}
