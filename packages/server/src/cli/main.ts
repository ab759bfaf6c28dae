import { existsSync, readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { createLedger, createStore, type Ledger, type Store } from '@credly/ledger'
import {
  CredlyError,
  type ProjectConfig,
  paginate,
  projectConfigSchema,
  type Transaction,
  type TransactionStatus,
  toFieldErrors,
  type UsageDimension,
  type UsageGroup,
  VERSION,
} from 'credly'
import { createApp } from '../app.ts'
import { DEFAULT_FAILED_AUTH_LIMIT } from '../auth.ts'
import { jsonLogger } from '../logger.ts'
import { createProjectWithKeys } from '../project-with-keys.ts'
import { DEFAULT_CONNECTION_LIMITS, startServer } from '../serve.ts'

const HELP = `credly ${VERSION}: meter LLM usage as credits

Usage:
  credly serve   [--config FILE] [--database PATH|URL] [--port N] [--host H] [--project ID]
                 [--rate-limit N] [--failed-auth-limit N] [--max-connections N]
                 [--headers-timeout S] [--request-timeout S] [--keep-alive-timeout S]
  credly init    --config FILE [--database PATH|URL] [--json] [--new-project]
  credly keys    create --scope admin|metering [--name NAME] | list | revoke KEY_ID   [--project ID] [--json]
  credly users   list | show USER_ID | grant USER_ID --credits N [--expires-at ISO] [--reason TEXT]   [--project ID] [--json]
  credly transactions [--user ID] [--model M] [--feature F] [--status S] [--from ISO] [--to ISO]
                 [--json|--csv] [--project ID]
  credly usage   [--from ISO] [--to ISO] [--group-by day,model,...] [--interval hour|day]
                 [--user ID] [--model M] [--feature F] [--json|--csv] [--project ID]
  credly verify  [--database PATH|URL] [--project ID]
  credly migrate [--database PATH|URL]

The database is a SQLite file (default ./credly.db, created if missing), or a postgres:// URL;
--database wins over DATABASE_URL. --project may be left out while the database has one project.

serve   runs the HTTP API (default 127.0.0.1:8787) with JSON logs on stdout. With --config, the
        file's models and tiers replace the project's (a new database gets a project, and its
        keys are printed once); without it, the database must exist and hold a project.
        SIGTERM or SIGINT finishes requests in flight, then exits. Limits (docs/security.md):
          --rate-limit N          requests per minute per API key (default 0: none)
          --failed-auth-limit N   failed authentications per minute per address (default 30; 0: none)
          --max-connections N     open connections (default 1024)
          --headers-timeout S     seconds to send a request's headers (default 10)
          --request-timeout S     seconds to send a whole request (default 30)
          --keep-alive-timeout S  seconds an idle connection stays open (default 5)
init    creates a project from a config file and prints its admin and metering keys, once. A
        database that has a project already is refused; --new-project adds another on purpose.
keys    creates, lists or revokes the project's API keys (secrets are shown only on create).
users   lists users, shows one, or grants credits (a top-up).
Lists print a table; --json prints JSON instead.
transactions  lists the newest transactions (a table); --csv and --json export every one
        that matches the filters.
usage   adds up calls, credits, tokens and refusals over a time range (default: the last 30
        days), grouped by day, hour, model, feature, user or tier.
verify  recomputes every balance from the journal; exits 1 if anything differs.
migrate applies missing schema migrations (serve and every command also do so on start;
        instances starting together are safe).
`

/** Thrown for a mistake of the caller's: printed without a stack, exit code 2. */
class UsageError extends Error {}

type Output = { out: (text: string) => void; err: (text: string) => void }

/**
 * Runs the CLI with `argv` (without `node` and the script). Resolves to the exit code; `serve`
 * resolves only when the server has shut down.
 */
export async function runCli(
  argv: string[],
  output: Output = defaultOutput,
  signals: NodeJS.EventEmitter = process,
): Promise<number> {
  const [command, ...rest] = argv
  try {
    switch (command) {
      case undefined:
        output.err(HELP)
        return 2
      case '-h':
      case '--help':
      case 'help':
        output.out(HELP)
        return 0
      case '-v':
      case '--version':
        output.out(`${VERSION}\n`)
        return 0
      case 'serve':
        return await serveCommand(rest, output, signals)
      case 'init':
        return await initCommand(rest, output)
      case 'keys':
        return await keysCommand(rest, output)
      case 'users':
        return await usersCommand(rest, output)
      case 'usage':
        return await usageCommand(rest, output)
      case 'transactions':
        return await transactionsCommand(rest, output)
      case 'verify':
        return await verifyCommand(rest, output)
      case 'migrate':
        return await migrateCommand(rest, output)
      default:
        throw new UsageError(
          `unknown command "${command}". Run \`credly --help\` for the commands.`,
        )
    }
  } catch (error) {
    if (error instanceof UsageError) {
      output.err(`credly: ${error.message}\n`)
      return 2
    }
    output.err(`credly: ${describeError(error)}\n`)
    return 1
  }
}

const databaseOption = { database: { type: 'string' } } as const
const projectOption = { project: { type: 'string' } } as const

function parse<const O extends Record<string, { type: 'string' | 'boolean' }>>(
  args: string[],
  options: O,
) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true })
  } catch (error) {
    throw new UsageError(`${(error as Error).message}. Run \`credly --help\` for the options.`)
  }
}

/** The database --database names, else DATABASE_URL, else ./credly.db. */
function databaseName(database: string | undefined): string {
  return database ?? (process.env.DATABASE_URL || './credly.db')
}

/** True for a SQLite path with no file behind it (opening it would create an empty ledger). */
function isMissingFile(database: string): boolean {
  return database !== ':memory:' && !/^postgres(ql)?:\/\//i.test(database) && !existsSync(database)
}

/** A whole-number option, at least `min`, or its default. */
function wholeNumber(
  values: Record<string, unknown>,
  name: string,
  fallback: number,
  min = 0,
): number {
  const text = values[name]
  if (text === undefined) return fallback
  const value = Number(text)
  if (!Number.isSafeInteger(value) || value < min)
    throw new UsageError(
      `--${name} must be a whole number${min > 0 ? ` of at least ${min}` : ''}, not "${text}".`,
    )
  return value
}

/** An option in seconds (more than zero), as milliseconds, or its default. */
function seconds(values: Record<string, unknown>, name: string, fallbackMs: number): number {
  const text = values[name]
  if (text === undefined) return fallbackMs
  const value = Number(text)
  if (!Number.isFinite(value) || value <= 0 || value > 3600)
    throw new UsageError(`--${name} must be a number of seconds from 0 to 3600, not "${text}".`)
  return Math.round(value * 1000)
}

function openLedger(database: string | undefined): {
  ledger: Ledger
  store: Store
  database: string
} {
  const name = databaseName(database)
  let store: Store
  try {
    store = createStore(name)
  } catch (error) {
    throw new CredlyError(`cannot open the database "${name}": ${(error as Error).message}`, {
      cause: error,
    })
  }
  return { ledger: createLedger({ store }), store, database: name }
}

/** Reads and validates a config file, naming each bad field. */
function readConfig(path: string): ProjectConfig {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    throw new UsageError(`cannot read the config file "${path}": ${(error as Error).message}`)
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    throw new UsageError(`the config file "${path}" is not valid JSON: ${(error as Error).message}`)
  }
  const result = projectConfigSchema.safeParse(json)
  if (!result.success) {
    const fields = toFieldErrors(result.error)
      .map((field) => `  ${field.path || '(top level)'}: ${field.message}`)
      .join('\n')
    throw new UsageError(
      `the config file "${path}" is invalid:\n${fields}\nIt needs "models" (credits per million tokens, e.g. {"gpt-4o": {"input": 2.5, "output": 10}}) and "tiers" (e.g. {"free": {"credits": 100}}).`,
    )
  }
  return result.data
}

/** Runs `work` on the ledger and the project the options name (or its only one), then closes it. */
async function withProject<T>(
  values: { database?: string; project?: string },
  work: (ledger: Ledger, projectId: string) => Promise<T>,
): Promise<T> {
  const { ledger, store } = openLedger(values.database)
  try {
    return await work(ledger, await resolveProject(ledger, values.project))
  } finally {
    await store.close()
  }
}

/** The project named by --project, or the only one in the database. */
async function resolveProject(ledger: Ledger, project: string | undefined): Promise<string> {
  if (project !== undefined) {
    await ledger.getProject(project)
    return project
  }
  const projects = await ledger.listProjects()
  if (projects.length === 1) return (projects[0] as { id: string }).id
  if (projects.length === 0)
    throw new UsageError(
      'the database has no project yet. Create one with `credly init --config FILE`.',
    )
  throw new UsageError(
    `the database has ${projects.length} projects; name one with --project (${projects.map((p) => p.id).join(', ')}).`,
  )
}

async function initCommand(args: string[], output: Output): Promise<number> {
  const { values } = parse(args, {
    config: { type: 'string' },
    json: { type: 'boolean' },
    'new-project': { type: 'boolean' },
    ...databaseOption,
  })
  if (!values.config)
    throw new UsageError("init needs --config FILE (the project's models and tiers).")
  const config = readConfig(values.config)
  const { ledger, store, database } = openLedger(values.database)
  try {
    const existing = await ledger.listProjects()
    if (existing.length > 0 && !values['new-project']) {
      throw new UsageError(
        `${redact(database)} already has a project (${existing.map((project) => project.id).join(', ')}); its keys were printed when it was created. ` +
          'Make new keys with `credly keys create --scope metering` (or admin), change its models and tiers with `credly serve --config FILE`, ' +
          'or pass --new-project to add another project to this database on purpose.',
      )
    }
    const created = await createProjectWithKeys(ledger, config)
    if (values.json) {
      output.out(`${JSON.stringify(created)}\n`)
    } else {
      output.out(
        `Created project ${created.project_id} in ${database}.\n\n` +
          `  admin key:    ${created.admin_key}\n  metering key: ${created.metering_key}\n\n` +
          'These keys are shown once and stored only as hashes. Give the metering key to your app:\n' +
          `  CREDLY_PROJECT_ID=${created.project_id} CREDLY_API_KEY=<metering key>\n`,
      )
    }
    return 0
  } finally {
    await store.close()
  }
}

async function serveCommand(
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
  const logger = jsonLogger(output.out)
  const name = databaseName(values.database)
  if (!config && isMissingFile(name))
    throw new UsageError(
      `there is no database at "${name}". Check --database (or DATABASE_URL), create one with \`credly init --config FILE --database ${name}\`, or pass --config FILE to create it now.`,
    )
  const { ledger, store, database } = openLedger(name)
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

async function keysCommand(args: string[], output: Output): Promise<number> {
  const { values, positionals } = parse(args, {
    scope: { type: 'string' },
    name: { type: 'string' },
    json: { type: 'boolean' },
    ...databaseOption,
    ...projectOption,
  })
  const [action, keyId] = positionals
  return withProject(values, async (ledger, projectId) => {
    switch (action) {
      case 'create': {
        if (values.scope !== 'admin' && values.scope !== 'metering')
          throw new UsageError('keys create needs --scope admin or --scope metering.')
        const key = await ledger.createApiKey(projectId, { scope: values.scope, name: values.name })
        output.out(
          values.json
            ? `${JSON.stringify(key)}\n`
            : `${key.key}\n(id ${key.id}, ${key.scope}; shown once)\n`,
        )
        return 0
      }
      case 'list': {
        const keys = await ledger.listApiKeys(projectId)
        output.out(
          values.json
            ? `${JSON.stringify(keys)}\n`
            : table(
                ['id', 'key', 'scope', 'state', 'created', 'name'],
                keys.map((key) => [
                  key.id,
                  `${key.prefix}…`,
                  key.scope,
                  key.revoked_at ? `revoked ${key.revoked_at}` : 'live',
                  key.created_at,
                  key.name ?? '',
                ]),
              ),
        )
        return 0
      }
      case 'revoke':
        if (!keyId)
          throw new UsageError('keys revoke needs the key id, e.g. `credly keys revoke key_...`.')
        await ledger.revokeApiKey(projectId, keyId)
        output.out(`revoked ${keyId}\n`)
        return 0
      default:
        throw new UsageError('keys takes create, list or revoke.')
    }
  })
}

async function usersCommand(args: string[], output: Output): Promise<number> {
  const { values, positionals } = parse(args, {
    credits: { type: 'string' },
    'expires-at': { type: 'string' },
    reason: { type: 'string' },
    limit: { type: 'string' },
    cursor: { type: 'string' },
    json: { type: 'boolean' },
    ...databaseOption,
    ...projectOption,
  })
  const [action, userId] = positionals
  return withProject(values, async (ledger, projectId) => {
    switch (action) {
      case 'list': {
        const page = await ledger.listUsers(projectId, {
          limit: values.limit === undefined ? undefined : Number(values.limit),
          cursor: values.cursor,
        })
        if (values.json) {
          output.out(`${JSON.stringify(page, null, 2)}\n`)
          return 0
        }
        output.out(
          table(
            ['user_id', 'tier', 'balance', 'held', 'next refill', 'created'],
            page.data.map((user) => [
              user.user_id,
              user.tier_id,
              String(user.balance),
              String(user.held),
              user.next_refill_at ?? '',
              user.created_at,
            ]),
          ),
        )
        if (page.next_cursor) output.out(`more: --cursor ${page.next_cursor}\n`)
        return 0
      }
      case 'show':
        if (!userId) throw new UsageError('users show needs a user id.')
        output.out(`${JSON.stringify(await ledger.getUser(projectId, userId), null, 2)}\n`)
        return 0
      case 'grant': {
        if (!userId) throw new UsageError('users grant needs a user id.')
        const credits = Number(values.credits)
        if (values.credits === undefined || !Number.isFinite(credits))
          throw new UsageError('users grant needs --credits N.')
        const grant = await ledger.grantCredits(projectId, {
          user_id: userId,
          credits,
          expires_at: values['expires-at'],
          reason: values.reason,
        })
        output.out(`${JSON.stringify(grant, null, 2)}\n`)
        return 0
      }
      default:
        throw new UsageError('users takes list, show or grant.')
    }
  })
}

async function usageCommand(args: string[], output: Output): Promise<number> {
  const { values } = parse(args, {
    from: { type: 'string' },
    to: { type: 'string' },
    'group-by': { type: 'string' },
    interval: { type: 'string' },
    user: { type: 'string' },
    model: { type: 'string' },
    feature: { type: 'string' },
    json: { type: 'boolean' },
    csv: { type: 'boolean' },
    ...databaseOption,
    ...projectOption,
  })
  return withProject(values, async (ledger, projectId) => {
    const report = await ledger.getUsage(projectId, {
      from: values.from,
      to: values.to,
      group_by: values['group-by'],
      interval: values.interval as 'hour' | 'day' | undefined,
      user_id: values.user,
      model: values.model,
      feature_identifier: values.feature,
    })
    if (values.json) {
      output.out(`${JSON.stringify(report, null, 2)}\n`)
      return 0
    }
    const fields = usageColumns(report.group_by)
    const rows = [
      ...report.data,
      ...(report.data.length > 1 ? [{ ...report.totals, total: true }] : []),
    ]
    const cells = rows.map((row) =>
      fields.map(([, read]) => read(row as UsageGroup & { total?: boolean })),
    )
    const headings = fields.map(([heading]) => heading)
    if (values.csv) {
      output.out(csv([headings, ...cells]))
      return 0
    }
    output.out(`${report.from} to ${report.to}\n`)
    output.out(table(headings, cells))
    return 0
  })
}

async function transactionsCommand(args: string[], output: Output): Promise<number> {
  const { values } = parse(args, {
    user: { type: 'string' },
    model: { type: 'string' },
    feature: { type: 'string' },
    status: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    json: { type: 'boolean' },
    csv: { type: 'boolean' },
    ...databaseOption,
    ...projectOption,
  })
  return withProject(values, async (ledger, projectId) => {
    const query = {
      user_id: values.user,
      model: values.model,
      feature_identifier: values.feature,
      status: values.status as TransactionStatus | undefined,
      created_after: values.from,
      created_before: values.to,
    }
    const columns: Array<[string, (transaction: Transaction) => unknown]> = [
      ['id', (t) => t.id],
      ['created_at', (t) => t.created_at],
      ['user_id', (t) => t.user_id],
      ['model', (t) => t.model],
      ['feature_identifier', (t) => t.feature_identifier],
      ['status', (t) => t.status],
      ['credits_reserved', (t) => t.credits_reserved],
      ['credits_used', (t) => t.credits_used],
      ['input_tokens', (t) => t.finalized_tokens?.input_tokens],
      ['output_tokens', (t) => t.finalized_tokens?.output_tokens],
      ['estimated', (t) => t.estimated],
    ]
    const cells = (transaction: Transaction) =>
      columns.map(([, read]) => String(read(transaction) ?? ''))
    if (values.csv || values.json) {
      // An export: every matching transaction, a page at a time.
      if (values.csv) output.out(csv([columns.map(([name]) => name)]))
      for await (const transaction of paginate((page) => ledger.listTransactions(projectId, page), {
        ...query,
        limit: 100,
      })) {
        output.out(values.csv ? csv([cells(transaction)]) : `${JSON.stringify(transaction)}\n`)
      }
      return 0
    }
    const page = await ledger.listTransactions(projectId, { ...query, limit: 50 })
    output.out(
      table(
        columns.map(([name]) => name),
        page.data.map(cells),
      ),
    )
    if (page.next_cursor) output.out('(the newest 50; --csv or --json exports them all)\n')
    return 0
  })
}

/** The columns of a usage table or CSV: the dimensions grouped by, then the figures. */
function usageColumns(
  groupBy: UsageDimension[],
): Array<[string, (row: UsageGroup & { total?: boolean }) => string]> {
  const dimension: Record<UsageDimension, keyof UsageGroup> = {
    day: 'day',
    hour: 'hour',
    model: 'model',
    feature: 'feature_identifier',
    user: 'user_id',
    tier: 'tier_id',
  }
  return [
    ...groupBy.map((name, index): [string, (row: UsageGroup & { total?: boolean }) => string] => [
      dimension[name],
      (row) => (row.total ? (index === 0 ? 'total' : '') : String(row[dimension[name]] ?? '')),
    ]),
    ['calls', (row) => String(row.calls)],
    ['credits_charged', (row) => String(row.credits_charged)],
    ['credits_refunded', (row) => String(row.credits_refunded)],
    ['input_tokens', (row) => String(row.tokens.input)],
    ['cached_input_tokens', (row) => String(row.tokens.cached_input)],
    ['cache_write_tokens', (row) => String(row.tokens.cache_write)],
    ['output_tokens', (row) => String(row.tokens.output)],
    ['reasoning_tokens', (row) => String(row.tokens.reasoning)],
    ['refused_insufficient_credits', (row) => String(row.refusals.insufficient_credits)],
    ['refused_rate_limited', (row) => String(row.refusals.rate_limited)],
  ]
}

/** Rows as CSV (RFC 4180: fields with a comma, quote or line break are quoted). */
function csv(rows: string[][]): string {
  const field = (value: string) =>
    /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value
  return `${rows.map((row) => row.map(field).join(',')).join('\r\n')}\r\n`
}

async function verifyCommand(args: string[], output: Output): Promise<number> {
  const { values } = parse(args, { json: { type: 'boolean' }, ...databaseOption, ...projectOption })
  const { ledger, store } = openLedger(values.database)
  try {
    const projects =
      values.project === undefined
        ? (await ledger.listProjects()).map((project) => project.id)
        : [values.project]
    let ok = true
    for (const projectId of projects) {
      let report: Awaited<ReturnType<Ledger['verify']>>
      try {
        report = await ledger.verify(projectId)
      } catch (error) {
        // One unreadable project must not hide the state of the others.
        ok = false
        const message = describeError(error)
        output.out(
          values.json
            ? `${JSON.stringify({ ok: false, project_id: projectId, error: message })}\n`
            : `${projectId}: could not be verified: ${message}\n`,
        )
        continue
      }
      ok &&= report.ok
      if (values.json) {
        output.out(`${JSON.stringify(report)}\n`)
        continue
      }
      const { totals, checked } = report
      output.out(
        `${projectId}: ${report.ok ? 'ok' : `${report.differences.length} difference(s)`} ` +
          `(${checked.users} users, ${checked.transactions} transactions, ${checked.journal_entries} journal entries; ` +
          `granted ${totals.granted} = available ${totals.available} + held ${totals.held} + spent ${totals.spent} + expired ${totals.expired})\n`,
      )
      for (const difference of report.differences) {
        output.out(
          `  ${difference.subject} ${difference.id}: ${difference.message}${difference.expected === undefined ? '' : ` (journal ${difference.expected}, stored ${difference.actual})`}\n`,
        )
      }
    }
    return ok ? 0 : 1
  } finally {
    await store.close()
  }
}

async function migrateCommand(args: string[], output: Output): Promise<number> {
  const { values } = parse(args, databaseOption)
  const { store, database } = openLedger(values.database)
  try {
    await store.ready()
    output.out(`${redact(database)}: schema is current (${store.kind})\n`)
    return 0
  } finally {
    await store.close()
  }
}

/** Rows as a table with aligned columns, for a terminal. */
function table(headings: string[], rows: string[][]): string {
  if (rows.length === 0) return '(none)\n'
  const widths = headings.map((heading, column) =>
    Math.max(heading.length, ...rows.map((row) => (row[column] ?? '').length)),
  )
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd()
  return `${[line(headings), ...rows.map(line)].join('\n')}\n`
}

/** An error as one line for the terminal; a ValidationError's message already names its fields. */
function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/** A database URL without its password, for logs. */
function redact(database: string): string {
  return database.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@')
}

const defaultOutput: Output = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
}
