import {
  type BalanceResponse,
  type ChangeUserTierRequest,
  type CompleteUsageRequest,
  type CompleteUsageResponse,
  type CreateUserRequest,
  CredlyApiError,
  changeUserTierRequestSchema,
  completeUsageRequestSchema,
  createUserRequestSchema,
  type DeleteUserResponse,
  type ExtendUsageRequest,
  extendUsageRequestSchema,
  type Grant,
  type GrantCreditsRequest,
  grantCreditsRequestSchema,
  type ListTransactionsQuery,
  type ListUsersQuery,
  listTransactionsQuerySchema,
  listUsersQuerySchema,
  type Page,
  type ProjectConfig,
  type ProjectConfigInput,
  parseOrThrow,
  projectConfigSchema,
  type StartUsageRequest,
  type StartUsageResponse,
  startUsageRequestSchema,
  type Transaction,
  transactionIdSchema,
  type UsageQuery,
  type UsageReport,
  type User,
  userIdSchema,
} from 'credly'
import { type Clock, systemClock } from '../clock.ts'
import { newId } from '../ids.ts'
import { toCredits, toMicro } from '../money.ts'
import type { ProjectRow, Store, StoreWriter, TransactionRow, UserRow } from '../stores/store.ts'
import {
  type ApiKeyIdentity,
  type ApiKeyInfo,
  type ApiKeyScope,
  authenticateApiKey,
  type CreatedApiKey,
  createApiKey,
  listApiKeys,
  projectNotFound,
  revokeApiKey,
} from './api-keys.ts'
import { Book } from './book.ts'
import { once, requestHash } from './idempotency.ts'
import { notPending, reserve, settle, settleDue } from './reservations.ts'
import { usageReport } from './usage-report.ts'
import { changeTier, deleteUser, insertUser } from './users.ts'
import { type VerifyReport, verifyProject } from './verify.ts'
import { decodeCursor, encodeCursor, toGrant, toTransaction, toUser } from './wire.ts'

/** Options of `createLedger`. */
export type LedgerOptions = {
  store: Store
  /** Where the ledger reads the time. @default the system clock */
  clock?: Clock
  /**
   * How long a write's idempotency key is remembered (the sweeper forgets older ones). A
   * complete stays exactly-once forever regardless: the transaction keeps its first result.
   * @default 7 days
   */
  idempotencyTtlMs?: number
}

/** Per-call options of a ledger write. */
export type WriteOptions = {
  /** Makes the write exactly-once: the same key and request return the first result. */
  idempotencyKey?: string | undefined
}

/** A project as stored: its id and validated config. */
export type Project = { id: string; config: ProjectConfig; created_at: string }

/**
 * The credit engine. Every method is scoped by project: an id from another project is simply
 * not found. Amounts in and out are credits; inside they are integer micro-credits.
 */
export interface Ledger {
  readonly store: Store
  readonly clock: Clock
  createProject(input: { id?: string; config: ProjectConfigInput }): Promise<Project>
  getProject(projectId: string): Promise<Project>
  /** Replaces a project's models, tiers and policies; users keep their balances. */
  updateProjectConfig(projectId: string, config: ProjectConfigInput): Promise<Project>
  startUsage(
    projectId: string,
    request: StartUsageRequest,
    options?: WriteOptions,
  ): Promise<StartUsageResponse>
  completeUsage(
    projectId: string,
    request: CompleteUsageRequest,
    options?: WriteOptions,
  ): Promise<CompleteUsageResponse>
  extendUsage(
    projectId: string,
    request: ExtendUsageRequest,
    options?: WriteOptions,
  ): Promise<Transaction>
  createUser(projectId: string, request: CreateUserRequest, options?: WriteOptions): Promise<User>
  getUser(projectId: string, userId: string): Promise<User>
  listUsers(projectId: string, query?: ListUsersQuery): Promise<Page<User>>
  deleteUser(projectId: string, userId: string, options?: WriteOptions): Promise<DeleteUserResponse>
  changeUserTier(
    projectId: string,
    request: ChangeUserTierRequest,
    options?: WriteOptions,
  ): Promise<User>
  getBalance(projectId: string, userId: string): Promise<BalanceResponse>
  grantCredits(
    projectId: string,
    request: GrantCreditsRequest,
    options?: WriteOptions,
  ): Promise<Grant>
  getTransaction(projectId: string, transactionId: string): Promise<Transaction>
  /** Calls, credits, tokens and refusals over a time range, grouped (see `UsageQuery`). */
  getUsage(projectId: string, query?: UsageQuery): Promise<UsageReport>
  listTransactions(projectId: string, query?: ListTransactionsQuery): Promise<Page<Transaction>>
  /**
   * Does ahead of time what every access does lazily: expires reservations and grants and
   * applies refills for users that are due. Returns how many users it brought up to date.
   */
  sweep(options?: { limit?: number }): Promise<{ users: number; idempotency_keys: number }>
  /**
   * Runs `sweep()` every `intervalMs` until the returned function is called. Optional: every
   * read and write brings its user up to date anyway. @default intervalMs 60000
   */
  startSweeper(options?: { intervalMs?: number; onError?: (error: unknown) => void }): () => void
  /** Recomputes every balance of a project from the journal and reports any difference. */
  verify(projectId: string): Promise<VerifyReport>
  /** Every project, oldest first. */
  listProjects(): Promise<Project[]>
  /** Creates an API key; its secret is in the result only. */
  createApiKey(
    projectId: string,
    options: { scope: ApiKeyScope; name?: string },
  ): Promise<CreatedApiKey>
  /** Who a secret belongs to, or undefined for an unknown or revoked key. */
  authenticateApiKey(secret: string): Promise<ApiKeyIdentity | undefined>
  listApiKeys(projectId: string): Promise<ApiKeyInfo[]>
  revokeApiKey(projectId: string, keyId: string): Promise<void>
}

/** Creates the credit engine over a store. */
export function createLedger(options: LedgerOptions): Ledger {
  const { store } = options
  const clock = options.clock ?? systemClock
  const idempotencyTtlMs = options.idempotencyTtlMs ?? 7 * 86_400_000

  async function loadProject(
    tx: { getProject(id: string): Promise<ProjectRow | undefined> },
    projectId: string,
  ) {
    const project = await tx.getProject(projectId)
    if (!project) throw projectNotFound(projectId)
    return project
  }

  /** Runs `work` on a locked, up-to-date user; writes everything it did. */
  async function withUser<T>(
    projectId: string,
    userId: string,
    work: (book: Book, project: ProjectRow) => Promise<T>,
    tx: StoreWriter,
  ): Promise<{ result: T; user: UserRow; project: ProjectRow }> {
    const project = await loadProject(tx, projectId)
    const user = await tx.lockUser(projectId, userId)
    if (!user) throw userNotFound(userId)
    const book = new Book(tx, project.config, user, clock.now())
    await settleDue(book)
    const result = await work(book, project)
    return { result, user: await book.flush(), project }
  }

  /**
   * One write unit for one user, exactly-once per idempotency key (see `once`). Units of the
   * same user share a batch key, so a hot user's operations share commits instead of queueing
   * on the user's row lock.
   */
  function writeOnce<T>(
    scope: {
      projectId: string
      userId: string | undefined
      operation: string
      key: string | undefined
      request: unknown
    },
    work: (tx: StoreWriter) => Promise<T>,
  ): Promise<T> {
    return store.write((tx) => once(tx, { ...scope, now: clock.now() }, () => work(tx)), {
      batchKey:
        scope.userId === undefined ? undefined : userBatchKey(scope.projectId, scope.userId),
    })
  }

  /**
   * Which user each transaction this process started belongs to, so its complete can join that
   * user's batch without a read. A hint only (the user's row lock decides): bounded, and a miss
   * (another instance started it) just means no batching.
   */
  const transactionUsers = new Map<string, string>()
  const rememberTransactionUser = (transactionId: string | null, userId: string) => {
    if (!store.batchesByKey || transactionId === null) return
    transactionUsers.set(transactionId, userId)
    if (transactionUsers.size > 10_000)
      transactionUsers.delete(transactionUsers.keys().next().value as string)
  }

  /** Reads a user, bringing them up to date first if a refill or expiry is due. */
  async function currentUser(
    projectId: string,
    userId: string,
  ): Promise<{ user: UserRow; config: ProjectConfig }> {
    const id = parseOrThrow(userIdSchema, userId, 'user_id', 'user_id')
    const snapshot = await store.read(async (tx) => ({
      project: await loadProject(tx, projectId),
      user: await tx.getUser(projectId, id),
    }))
    if (!snapshot.user) throw userNotFound(id)
    if (snapshot.user.next_event_at === null || snapshot.user.next_event_at > clock.now()) {
      return { user: snapshot.user, config: snapshot.project.config }
    }
    return store.write(
      async (tx) => {
        const { user, project } = await withUser(projectId, id, async () => undefined, tx)
        return { user, config: project.config }
      },
      { batchKey: userBatchKey(projectId, id) },
    )
  }

  const ledger: Ledger = {
    store,
    clock,

    async createProject(input) {
      const config = parseOrThrow(projectConfigSchema, input.config, 'project config')
      const row: ProjectRow = { id: input.id ?? newId('project'), config, created_at: clock.now() }
      await store.write((tx) => tx.insertProject(row))
      return toProject(row)
    },

    async getProject(projectId) {
      return toProject(await store.read((tx) => loadProject(tx, projectId)))
    },

    async updateProjectConfig(projectId, input) {
      const config = parseOrThrow(projectConfigSchema, input, 'project config')
      return store.write(async (tx) => {
        const project = await loadProject(tx, projectId)
        await tx.updateProjectConfig(projectId, config)
        return toProject({ ...project, config })
      })
    },

    async startUsage(projectId, request, writeOptions = {}) {
      const input = parseOrThrow(startUsageRequestSchema, request, 'startUsageTransaction request')
      const started = await writeOnce(
        {
          projectId,
          userId: input.user_id,
          operation: 'start',
          key: writeOptions.idempotencyKey,
          request: input,
        },
        async (tx) =>
          (await withUser(projectId, input.user_id, (book) => reserve(book, input), tx)).result,
      )
      rememberTransactionUser(started.transaction_id, input.user_id)
      return started
    },

    async completeUsage(projectId, request, writeOptions = {}) {
      const { transaction_id: transactionId, ...input } = parseOrThrow(
        completeUsageRequestSchema,
        request,
        'completeUsageTransaction request',
      )
      const hash = requestHash({ ...input, estimated: input.estimated ?? false })
      const replayOrConflict = (transaction: TransactionRow): Outcome<CompleteUsageResponse> =>
        transaction.complete_hash === hash
          ? { ok: transaction.complete_result as CompleteUsageResponse }
          : { conflict: notPending(transaction).detail as string }
      const outcome = await writeOnce(
        {
          projectId,
          userId: transactionUsers.get(transactionId),
          operation: 'complete',
          key: writeOptions.idempotencyKey,
          request: { transaction_id: transactionId, ...input },
        },
        async (tx): Promise<Outcome<CompleteUsageResponse>> => {
          const transaction = await transactionOf(tx, projectId, transactionId)
          // A resolved transaction never changes again, so it needs no lock to answer.
          if (transaction.status !== 'pending') return replayOrConflict(transaction)
          const { result } = await withUser(
            projectId,
            transaction.user_id,
            async (book) => {
              // Read again under the user's lock (every change to a transaction holds it); an
              // expiry settled just now by settleDue is committed and then reported.
              const current = (await tx.getTransaction(projectId, transactionId)) as TransactionRow
              if (current.status !== 'pending') return replayOrConflict(current)
              return { ok: await settle(book, current, input, hash) }
            },
            tx,
          )
          return result
        },
      )
      return unwrap(outcome)
    },

    async extendUsage(projectId, request, writeOptions = {}) {
      const input = parseOrThrow(
        extendUsageRequestSchema,
        request,
        'extendUsageTransaction request',
      )
      const outcome = await writeOnce(
        {
          projectId,
          userId: transactionUsers.get(input.transaction_id),
          operation: 'extend',
          key: writeOptions.idempotencyKey,
          request: input,
        },
        async (tx): Promise<Outcome<Transaction>> => {
          const transaction = await transactionOf(tx, projectId, input.transaction_id)
          if (transaction.status !== 'pending')
            return { conflict: notPending(transaction).detail as string }
          const { result } = await withUser(
            projectId,
            transaction.user_id,
            async (book, project) => {
              const current = (await tx.getTransaction(
                projectId,
                input.transaction_id,
              )) as TransactionRow
              if (current.status !== 'pending')
                return { conflict: notPending(current).detail as string }
              const ttl = input.ttl_seconds ?? project.config.reservations.ttl_seconds
              const extended = { ...current, expires_at: book.now + ttl * 1000 }
              await tx.updateTransaction(extended)
              return { ok: toTransaction(extended) }
            },
            tx,
          )
          return result
        },
      )
      return unwrap(outcome)
    },

    async createUser(projectId, request, writeOptions = {}) {
      const input = parseOrThrow(createUserRequestSchema, request, 'createUser request')
      return writeOnce(
        {
          projectId,
          userId: input.user_id,
          operation: 'create_user',
          key: writeOptions.idempotencyKey,
          request: input,
        },
        async (tx) => {
          const { config } = await loadProject(tx, projectId)
          return toUser(
            await insertUser(tx, config, { ...input, project_id: projectId }, clock.now()),
            config,
          )
        },
      )
    },

    async getUser(projectId, userId) {
      const { user, config } = await currentUser(projectId, userId)
      return toUser(user, config)
    },

    async getBalance(projectId, userId) {
      const { user } = await currentUser(projectId, userId)
      return {
        user_id: user.user_id,
        balance: toCredits(user.available),
        held: toCredits(user.held),
      }
    },

    async listUsers(projectId, query = {}) {
      const input = parseOrThrow(listUsersQuerySchema, query, 'getUsers query')
      const limit = input.limit ?? 20
      const after = input.cursor === undefined ? undefined : decodeCursor(input.cursor)?.[0]
      if (input.cursor !== undefined && typeof after !== 'string') throw badCursor()
      const { project, rows } = await store.read(async (tx) => ({
        project: await loadProject(tx, projectId),
        rows: await tx.listUsers({
          project_id: projectId,
          limit: limit + 1,
          after: after as string | undefined,
          tier_id: input.tier_id,
        }),
      }))
      const page = rows.slice(0, limit)
      const now = clock.now()
      const users = await Promise.all(
        page.map(async (row) =>
          row.next_event_at !== null && row.next_event_at <= now
            ? toUser((await currentUser(projectId, row.user_id)).user, project.config)
            : toUser(row, project.config),
        ),
      )
      const last = page[page.length - 1]
      return {
        data: users,
        has_more: rows.length > limit,
        next_cursor: rows.length > limit && last ? encodeCursor([last.user_id]) : null,
      }
    },

    async deleteUser(projectId, userId, writeOptions = {}) {
      const id = parseOrThrow(userIdSchema, userId, 'user_id', 'user_id')
      return writeOnce(
        {
          projectId,
          userId: id,
          operation: 'delete_user',
          key: writeOptions.idempotencyKey,
          request: { user_id: id },
        },
        async (tx) => {
          await withUser(projectId, id, (book) => deleteUser(book), tx)
          return { user_id: id, deleted: true as const }
        },
      )
    },

    async changeUserTier(projectId, request, writeOptions = {}) {
      const input = parseOrThrow(changeUserTierRequestSchema, request, 'changeUserTier request')
      return writeOnce(
        {
          projectId,
          userId: input.user_id,
          operation: 'change_tier',
          key: writeOptions.idempotencyKey,
          request: input,
        },
        async (tx) => {
          const { user, project } = await withUser(
            projectId,
            input.user_id,
            (book) => changeTier(book, input.tier_id, input.reset_balance ?? false),
            tx,
          )
          return toUser(user, project.config)
        },
      )
    },

    async grantCredits(projectId, request, writeOptions = {}) {
      const input = parseOrThrow(grantCreditsRequestSchema, request, 'grantCredits request')
      const expiresAt = input.expires_at === undefined ? null : Date.parse(input.expires_at)
      if (expiresAt !== null && expiresAt <= clock.now()) {
        throw CredlyApiError.fromKind('validation-error', 'A grant must expire in the future.', {
          errors: [{ path: 'expires_at', message: `${input.expires_at} is not in the future` }],
        })
      }
      return writeOnce(
        {
          projectId,
          userId: input.user_id,
          operation: 'grant',
          key: writeOptions.idempotencyKey,
          request: input,
        },
        async (tx) =>
          (
            await withUser(
              projectId,
              input.user_id,
              async (book) => {
                const bucket = await book.addBucket(
                  {
                    id: newId('grant'),
                    kind: 'grant',
                    credits: toMicro(input.credits),
                    expires_at: expiresAt,
                    reason: input.reason ?? null,
                    created_at: book.now,
                  },
                  'grant',
                  input.reason === undefined ? null : { reason: input.reason },
                )
                return toGrant(bucket, input.user_id)
              },
              tx,
            )
          ).result,
      )
    },

    async getTransaction(projectId, transactionId) {
      const id = parseOrThrow(
        transactionIdSchema,
        transactionId,
        'transaction_id',
        'transaction_id',
      )
      const row = await store.read((tx) => tx.getTransaction(projectId, id))
      if (!row) throw transactionNotFound(id)
      if (row.status === 'pending' && row.expires_at !== null && row.expires_at <= clock.now()) {
        // Resolve it now, so a read never shows a reservation past its expiry as pending.
        await currentUser(projectId, row.user_id).catch(() => undefined)
        return toTransaction(
          (await store.read((tx) => tx.getTransaction(projectId, id))) as TransactionRow,
        )
      }
      return toTransaction(row)
    },

    async getUsage(projectId, query = {}) {
      return store.read(async (tx) => {
        await loadProject(tx, projectId)
        return usageReport(tx, projectId, query, clock.now())
      })
    },

    async listTransactions(projectId, query = {}) {
      const input = parseOrThrow(listTransactionsQuerySchema, query, 'getTransactions query')
      const limit = input.limit ?? 20
      let before: { created_at: number; id: string } | undefined
      if (input.cursor !== undefined) {
        const parts = decodeCursor(input.cursor)
        if (!parts || typeof parts[0] !== 'number' || typeof parts[1] !== 'string')
          throw badCursor()
        before = { created_at: parts[0], id: parts[1] }
      }
      const rows = await store.read(async (tx) => {
        await loadProject(tx, projectId)
        return tx.listTransactions({
          project_id: projectId,
          limit: limit + 1,
          before,
          user_id: input.user_id,
          status: input.status,
          model: input.model,
          feature_identifier: input.feature_identifier,
          created_after:
            input.created_after === undefined ? undefined : Date.parse(input.created_after),
          created_before:
            input.created_before === undefined ? undefined : Date.parse(input.created_before),
        })
      })
      const page = rows.slice(0, limit)
      const last = page[page.length - 1]
      return {
        data: page.map(toTransaction),
        has_more: rows.length > limit,
        next_cursor: rows.length > limit && last ? encodeCursor([last.created_at, last.id]) : null,
      }
    },

    async sweep(sweepOptions = {}) {
      const due = await store.read((tx) => tx.listDueUsers(clock.now(), sweepOptions.limit ?? 1000))
      // Concurrent writes share commits (group commit), so a large sweep stays cheap.
      await Promise.all(
        due.map(({ project_id: projectId, user_id: userId }) =>
          store.write((tx) => withUser(projectId, userId, async () => undefined, tx), {
            batchKey: userBatchKey(projectId, userId),
          }),
        ),
      )
      const keys = await store.write((tx) => tx.pruneIdempotency(clock.now() - idempotencyTtlMs))
      return { users: due.length, idempotency_keys: keys }
    },

    startSweeper(sweeperOptions = {}) {
      let running = false
      const timer = setInterval(() => {
        if (running) return
        running = true
        ledger
          .sweep()
          .catch((error: unknown) => sweeperOptions.onError?.(error))
          .finally(() => {
            running = false
          })
      }, sweeperOptions.intervalMs ?? 60_000)
      timer.unref()
      return () => clearInterval(timer)
    },

    async listProjects() {
      return (await store.read((tx) => tx.listProjects())).map(toProject)
    },

    createApiKey: (projectId, keyOptions) =>
      createApiKey(store, projectId, keyOptions, clock.now()),
    authenticateApiKey: (secret) => authenticateApiKey(store, secret),
    listApiKeys: (projectId) => listApiKeys(store, projectId),
    revokeApiKey: (projectId, keyId) => revokeApiKey(store, projectId, keyId, clock.now()),

    async verify(projectId) {
      if (typeof projectId !== 'string') {
        throw CredlyApiError.fromKind(
          'validation-error',
          'ledger.verify(projectId) takes the project id. On a local client, credly.verify() checks its own project.',
          { errors: [{ path: 'projectId', message: 'must be a string' }] },
        )
      }
      return store.read(async (tx) => {
        await loadProject(tx, projectId)
        return verifyProject(tx, projectId)
      })
    },
  }
  return ledger
}

/**
 * What a write that may find its transaction already resolved returns: the conflict is data, so
 * the unit still commits (an expiry it settled stays settled) and a replayed key answers the same.
 */
type Outcome<T> = { ok: T } | { conflict: string }

function unwrap<T>(outcome: Outcome<T>): T {
  if ('ok' in outcome) return outcome.ok
  throw CredlyApiError.fromKind('transaction-conflict', outcome.conflict)
}

async function transactionOf(
  tx: StoreWriter,
  projectId: string,
  transactionId: string,
): Promise<TransactionRow> {
  const transaction = await tx.getTransaction(projectId, transactionId)
  if (!transaction) throw transactionNotFound(transactionId)
  return transaction
}

/** Writes of one user share this batch key. */
function userBatchKey(projectId: string, userId: string): string {
  return `${projectId}\u0000${userId}`
}

function toProject(row: ProjectRow): Project {
  return { id: row.id, config: row.config, created_at: new Date(row.created_at).toISOString() }
}

function userNotFound(userId: string): CredlyApiError {
  return CredlyApiError.fromKind(
    'user-not-found',
    `No user "${userId}" in this project. Create it with createUser (captureUsage does so by itself).`,
  )
}

function transactionNotFound(transactionId: string): CredlyApiError {
  return CredlyApiError.fromKind(
    'transaction-not-found',
    `No transaction "${transactionId}" in this project.`,
  )
}

function badCursor(): CredlyApiError {
  return CredlyApiError.fromKind(
    'validation-error',
    'The cursor is not one this server gave out. Pass back next_cursor unchanged.',
    { errors: [{ path: 'cursor', message: 'unknown cursor' }] },
  )
}
