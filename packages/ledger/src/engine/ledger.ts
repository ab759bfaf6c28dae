import type {
  BalanceResponse,
  ChangeUserTierRequest,
  CompleteUsageRequest,
  CompleteUsageResponse,
  CreateUserRequest,
  DeleteUserResponse,
  ExtendUsageRequest,
  Grant,
  GrantCreditsRequest,
  ListTransactionsQuery,
  ListUsersQuery,
  Page,
  ProjectConfig,
  ProjectConfigInput,
  StartUsageRequest,
  StartUsageResponse,
  Transaction,
  UsageQuery,
  UsageReport,
  User,
} from 'credly'
import { type Clock, systemClock } from '../clock.ts'
import type { Store } from '../stores/store.ts'
import {
  ApiKeyCache,
  type ApiKeyIdentity,
  type ApiKeyInfo,
  type ApiKeyScope,
  authenticateApiKey,
  type CreatedApiKey,
  createApiKey,
  listApiKeys,
  revokeApiKey,
} from './api-keys.ts'
import { historyOperations } from './history.ts'
import { projectOperations } from './projects.ts'
import { sweeperOperations } from './sweeper.ts'
import { createUnits } from './units.ts'
import { usageOperations } from './usage-operations.ts'
import { userOperations } from './user-operations.ts'
import type { VerifyReport } from './verify.ts'

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
  /**
   * How long a live API key is trusted without reading it again. A key revoked through this
   * ledger is refused at once; one revoked by another process (another server on the same
   * database) within this time. 0 reads the key on every request.
   * @default 10000
   */
  apiKeyCacheMs?: number
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
   * applies refills for users that are due, forgets old idempotency keys, and writes the usage
   * totals of the past week's ended days and of the last whole week per user (so no report pays
   * for them). Returns how many of each.
   */
  sweep(options?: {
    limit?: number
  }): Promise<{ users: number; idempotency_keys: number; usage_days: number; usage_weeks: number }>
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

/** Creates the credit engine over a store: one operations module per concern, over shared units. */
export function createLedger(options: LedgerOptions): Ledger {
  const { store } = options
  const clock = options.clock ?? systemClock
  const units = createUnits(store, clock)
  const keys = new ApiKeyCache(options.apiKeyCacheMs ?? 10_000)
  return {
    store,
    clock,
    ...projectOperations(units),
    ...usageOperations(units),
    ...userOperations(units),
    ...historyOperations(units),
    ...sweeperOperations(units, options.idempotencyTtlMs ?? 7 * 86_400_000),
    createApiKey: (projectId, keyOptions) =>
      createApiKey(store, projectId, keyOptions, clock.now()),
    authenticateApiKey: (secret) => authenticateApiKey(store, secret, keys, clock.now()),
    listApiKeys: (projectId) => listApiKeys(store, projectId),
    revokeApiKey: (projectId, keyId) => revokeApiKey(store, projectId, keyId, clock.now(), keys),
  }
}
