import { readFileSync } from 'node:fs'
import {
  type CaptureUsageParams,
  type CreateUserInput,
  type CredlyClient,
  CredlyError,
  captureUsage,
  createUserRequestOf,
  type ProjectConfigInput,
  parseOrThrow,
  projectConfigSchema,
  type TransactionLookup,
  transactionIdOf,
  type UserLookup,
  userIdOf,
} from 'credly/internal'
import type { Clock } from './clock.ts'
import { preloadCatalog } from './engine/catalog.ts'
import { createLedger, type Ledger } from './engine/ledger.ts'
import type { VerifyReport } from './engine/verify.ts'
import { createStore } from './open-store.ts'

/** Options of `createLocalClient`. */
export type LocalClientOptions = {
  /** A SQLite file path (created if missing), `:memory:`, or a `postgres://` URL. */
  database: string
  /**
   * The project's models, tiers and policies: an object, or the path of a JSON file. The
   * database keeps the project; this config replaces the stored one on every start.
   */
  config: ProjectConfigInput | string
  /** The project id inside the database. @default "prj_local" */
  projectId?: string
  /** Where the ledger reads the time. @default the system clock */
  clock?: Clock
  /** SQLite's `synchronous` setting (see `SqliteStoreOptions`). @default "FULL" */
  synchronous?: 'FULL' | 'NORMAL'
  /** On PostgreSQL, the schema that holds Credly's tables. @default "public" */
  schema?: string
}

/** A `CredlyClient` with the ledger in this process, plus what only an embedded one has. */
export type LocalClient = CredlyClient & {
  /** The engine underneath, for verify(), sweep() and admin work. */
  readonly ledger: Ledger
  /** The project id the client meters into. */
  readonly projectId: string
  /** Recomputes every balance of the project from the journal (see `Ledger.verify`). */
  verify(): Promise<VerifyReport>
  /** Waits for pending writes, then closes the database. */
  close(): Promise<void>
}

/**
 * A Credly client with the whole ledger embedded: no server, nothing to install. It behaves like
 * `createClient` (same methods, results and error classes), so code can move to a server later
 * by changing one line.
 *
 * @example
 * ```ts
 * import { createLocalClient } from '@credly/ledger'
 *
 * const credly = createLocalClient({
 *   database: './credly.db',
 *   config: {
 *     models: { 'gpt-4o': { input: 2.5, output: 10 } },
 *     tiers: { free: { credits: 100, refill: { every: 'month', policy: 'replace' } } },
 *   },
 * })
 * await credly.createUser({ user_id: 'user_42' })
 * const start = await credly.startUsageTransaction({ user_id: 'user_42', model: 'gpt-4o' })
 * ```
 */
export function createLocalClient(options: LocalClientOptions): LocalClient {
  const config = parseOrThrow(projectConfigSchema, loadConfig(options.config), 'project config')
  const projectId = options.projectId ?? 'prj_local'
  const store = createStore(options.database, {
    synchronous: options.synchronous,
    schema: options.schema,
  })
  const ledger = createLedger({ store, clock: options.clock })
  preloadCatalog(config.pricing)

  // The project is created or updated once, before the first call goes through.
  let ready: Promise<void> | undefined
  const ensureProject = () => {
    ready ??= (async () => {
      const existing = await store.read((tx) => tx.getProject(projectId))
      if (!existing) await ledger.createProject({ id: projectId, config })
      else if (JSON.stringify(existing.config) !== JSON.stringify(config))
        await ledger.updateProjectConfig(projectId, config)
    })()
    return ready
  }
  const scoped =
    <A extends unknown[], R>(method: (projectId: string, ...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      await ensureProject()
      return method(projectId, ...args)
    }

  const client: LocalClient = {
    ledger,
    projectId,
    startUsageTransaction: scoped((id, request, callOptions) =>
      ledger.startUsage(id, request, callOptions),
    ),
    completeUsageTransaction: scoped((id, request, callOptions) =>
      ledger.completeUsage(id, request, callOptions),
    ),
    extendUsageTransaction: scoped((id, request, callOptions) =>
      ledger.extendUsage(id, request, callOptions),
    ),
    captureUsage: <T>(params: CaptureUsageParams<T>) => captureUsage(client, params),
    createUser: scoped((id, request: CreateUserInput, callOptions) =>
      ledger.createUser(id, createUserRequestOf(request), callOptions),
    ),
    getUser: scoped((id, user: UserLookup) => ledger.getUser(id, userIdOf(user, 'getUser'))),
    getUsers: scoped((id, query) => ledger.listUsers(id, query)),
    deleteUser: scoped((id, user: UserLookup, callOptions) =>
      ledger.deleteUser(id, userIdOf(user, 'deleteUser'), callOptions),
    ),
    changeUserTier: scoped((id, request, callOptions) =>
      ledger.changeUserTier(id, request, callOptions),
    ),
    getBalance: scoped((id, user: UserLookup) =>
      ledger.getBalance(id, userIdOf(user, 'getBalance')),
    ),
    grantCredits: scoped((id, request, callOptions) =>
      ledger.grantCredits(id, request, callOptions),
    ),
    getTransactions: scoped((id, query) => ledger.listTransactions(id, query)),
    getUsage: scoped((id, query) => ledger.getUsage(id, query)),
    getTransaction: scoped((id, transaction: TransactionLookup) =>
      ledger.getTransaction(id, transactionIdOf(transaction, 'getTransaction')),
    ),
    verify: scoped((id) => ledger.verify(id)),
    close: () => store.close(),
  }
  return client
}

function loadConfig(config: ProjectConfigInput | string): unknown {
  if (typeof config !== 'string') return config
  let text: string
  try {
    text = readFileSync(config, 'utf8')
  } catch (cause) {
    throw new CredlyError(
      `Cannot read the Credly config file "${config}": ${(cause as Error).message}`,
      { cause },
    )
  }
  try {
    return JSON.parse(text)
  } catch (cause) {
    throw new CredlyError(
      `The Credly config file "${config}" is not valid JSON: ${(cause as Error).message}`,
      { cause },
    )
  }
}
