import type {
  ModelPrice,
  PriceSource,
  ProjectConfig,
  TokenCounts,
  TransactionStatus,
  UsageDimension,
} from 'credly'

/*
 * What the ledger engine asks of a database. A store keeps rows and runs units of work
 * atomically; it knows nothing of pricing, tiers or policies. Amounts are integer micro-credits
 * and times are milliseconds since the epoch.
 */

export type ProjectRow = {
  id: string
  config: ProjectConfig
  created_at: number
}

export type UserRow = {
  /** Internal id (`usr_...`); the journal refers to users by it, so a deleted id can be reused. */
  ref: string
  project_id: string
  /** The app's id for the user. */
  user_id: string
  tier_id: string
  /** Spendable now: unexpired bucket credits minus any debt. Negative after an overrun. */
  available: number
  /** Held by pending reservations. */
  held: number
  metadata: Record<string, string>
  created_at: number
  /** The start of the current tier's refill schedule (creation or last tier change). */
  refill_anchor: number
  /** How many refill periods after the anchor have been applied. */
  refills_applied: number
  /**
   * The earliest time something is due for this user (a refill, a bucket or reservation expiry),
   * so a read can tell from the row alone whether the user needs maintenance first.
   */
  next_event_at: number | null
  deleted_at: number | null
  /** The `as_of` of the last tier change that gave one (older changes are ignored). */
  tier_as_of: number | null
}

/** A pot of credits: one top-up or one tier refill. Spent soonest-expiring first. */
export type BucketRow = {
  id: string
  project_id: string
  user_ref: string
  kind: 'grant' | 'refill'
  credits: number
  remaining: number
  expires_at: number | null
  reason: string | null
  created_at: number
}

/** Which bucket a slice of a reservation's hold came from. */
/**
 * A slice of a reservation: taken from a bucket, or (`bucket_id: null`) from the tier's overdraft,
 * that is, held against debt.
 */
export type HoldPart = { bucket_id: string | null; amount: number }

export type TransactionRow = {
  id: string
  project_id: string
  user_ref: string
  user_id: string
  /** The user's tier when the call started (null on rows older than the column). */
  tier_id: string | null
  model: string
  feature_identifier: string | null
  status: TransactionStatus
  reserved: number
  used: number
  provisional_tokens: TokenCounts | null
  finalized_tokens: TokenCounts | null
  price: ModelPrice
  /** Where `price` came from (null on rows older than the column: all priced from the config). */
  price_source: PriceSource | null
  estimated: boolean
  created_at: number
  completed_at: number | null
  expires_at: number | null
  hold_parts: HoldPart[]
  /** Hash of the completing request, so a repeat is a replay and a different body a conflict. */
  complete_hash: string | null
  /** The response of the first complete, returned again on a replay. */
  complete_result: unknown
}

/**
 * A journal account. Every movement is double-entry: `amount` leaves `debit` and enters `credit`,
 * so replaying the journal yields every balance and the sum over all accounts is always zero.
 * - `world`: where granted credits come from
 * - `bucket:<id>`: a top-up's or refill's unspent credits
 * - `hold:<transaction id>`: a pending reservation
 * - `debt`: negative when the user owes credits after an overrun
 * - `spent`: charged for model calls
 * - `expired`: credits that expired unused (grant or tier expiry, a charged reservation expiry
 *   counts as `spent`)
 */
export type Account = 'world' | 'debt' | 'spent' | 'expired' | `bucket:${string}` | `hold:${string}`

export const journalKinds = [
  'grant',
  'refill',
  'reserve',
  'release',
  'charge',
  'expire',
  'adjust',
] as const
export type JournalKind = (typeof journalKinds)[number]

export type JournalEntryInput = {
  project_id: string
  user_ref: string
  kind: JournalKind
  amount: number
  debit: Account
  credit: Account
  transaction_id: string | null
  at: number
  /** Why, in words or data: the price used, the refill period, the grant reason. */
  memo: Record<string, unknown> | null
}

export type JournalEntry = JournalEntryInput & { seq: number }

export type IdempotencyRow = {
  project_id: string
  /** The operation, e.g. `start` or `grant`, so one key can name different kinds of request. */
  scope: string
  key: string
  request_hash: string
  response: unknown
  created_at: number
}

/** An API key as stored: only a hash of the secret, never the secret. */
export type ApiKeyRow = {
  id: string
  project_id: string
  name: string | null
  scope: 'admin' | 'metering'
  /** The first characters of the secret, shown in listings so a key can be recognised. */
  prefix: string
  /** SHA-256 of the secret, hex. */
  hash: string
  created_at: number
  revoked_at: number | null
}

/** A start the ledger refused, kept for usage reports (append-only, like the journal). */
export type RefusalRow = {
  project_id: string
  user_ref: string
  user_id: string
  tier_id: string
  model: string
  feature_identifier: string | null
  reason: 'insufficient_credits' | 'rate_limited'
  /** What the call would have cost, micro-credits. */
  credits_required: number
  at: number
}

export type UsageSumsQuery = {
  project_id: string
  /** Transactions created at or after this time, ms. */
  from: number
  /** ... and before this one. */
  to: number
  group_by: UsageDimension[]
  user_id?: string
  model?: string
  feature_identifier?: string
}

/**
 * One group of a usage report, as the store adds it up: sums are BigInt (a project's totals may
 * pass 2^53 micro-credits); `key` holds the group's value for each dimension asked for (a time
 * bucket's start in ms for `day` and `hour`).
 */
export type UsageSums = {
  key: Partial<Record<UsageDimension, string | number | null>>
  calls: number
  /** Micro-credits charged. */
  charged: bigint
  /** Micro-credits reserved and given back. */
  refunded: bigint
  tokens: {
    input: bigint
    cached_input: bigint
    cache_write: bigint
    output: bigint
    reasoning: bigint
  }
  refused: { insufficient_credits: number; rate_limited: number }
}

export type UserListQuery = { project_id: string; limit: number; after?: string; tier_id?: string }

export type TransactionListQuery = {
  project_id: string
  limit: number
  /** Return transactions older than this cursor (newest first). */
  before?: { created_at: number; id: string }
  user_id?: string
  status?: TransactionStatus
  model?: string
  feature_identifier?: string
  created_after?: number
  created_before?: number
}

/** Reads that any unit of work may make. */
export interface StoreReader {
  getProject(id: string): Promise<ProjectRow | undefined>
  /** A project's calls and refusals in a time range, added up per group (see `UsageSums`). */
  usageReport(query: UsageSumsQuery): Promise<UsageSums[]>
  /** The live (not deleted) user with this app id. */
  getUser(projectId: string, userId: string): Promise<UserRow | undefined>
  /** Live users in `user_id` order after the cursor. */
  listUsers(query: UserListQuery): Promise<UserRow[]>
  /** Buckets with credits left (the engine orders them; see `spendOrder`). */
  listSpendableBuckets(userRef: string): Promise<BucketRow[]>
  getBucket(id: string): Promise<BucketRow | undefined>
  getTransaction(projectId: string, id: string): Promise<TransactionRow | undefined>
  listTransactions(query: TransactionListQuery): Promise<TransactionRow[]>
  /** Pending transactions of a user whose expiry is at or before `now`. */
  listExpiredPending(userRef: string, now: number): Promise<TransactionRow[]>
  /**
   * Credits counted against a rate limit since `since`: reserved while pending, else used.
   * Capped at 4 * MAX_MICRO, so it is always exact (a larger sum is over any limit anyway).
   */
  sumSpendSince(
    user: Pick<UserRow, 'ref' | 'project_id' | 'user_id'>,
    since: number,
  ): Promise<number>
  /** Earliest expiry among a user's buckets with credits left, and pending transactions. */
  nextExpiry(userRef: string): Promise<number | null>
  getIdempotency(projectId: string, scope: string, key: string): Promise<IdempotencyRow | undefined>
  /** Journal entries of a project after `afterSeq`, in order. */
  readJournal(projectId: string, afterSeq: number, limit: number): Promise<JournalEntry[]>
  /** Every user row of a project, deleted ones included (for verify). */
  listAllUsers(projectId: string): Promise<UserRow[]>
  /** Every bucket of a project (for verify). */
  listAllBuckets(projectId: string): Promise<BucketRow[]>
  /** Every transaction of a project (for verify). */
  listAllTransactions(projectId: string): Promise<TransactionRow[]>
  /** Every project, oldest first. */
  listProjects(): Promise<ProjectRow[]>
  getApiKeyByHash(hash: string): Promise<ApiKeyRow | undefined>
  listApiKeys(projectId: string): Promise<ApiKeyRow[]>
  /** Ids of projects with a user whose `next_event_at` is at or before `now` (for the sweeper). */
  listDueUsers(now: number, limit: number): Promise<Array<{ project_id: string; user_id: string }>>
}

/** A unit of work that may write. Everything it does commits together or not at all. */
export interface StoreWriter extends StoreReader {
  /**
   * The live user with this app id, locked against other writers until the unit commits
   * (`SELECT ... FOR UPDATE` on PostgreSQL; SQLite's write lock already covers it).
   */
  lockUser(
    projectId: string,
    userId: string,
    /** A transaction the caller reads next under the lock: a store may fetch it with the lock. */
    options?: { transactionId?: string },
  ): Promise<UserRow | undefined>
  insertProject(row: ProjectRow): Promise<void>
  updateProjectConfig(id: string, config: ProjectConfig): Promise<void>
  /** Inserts a user; false if a live user with that app id exists already. */
  insertUser(row: UserRow): Promise<boolean>
  updateUser(row: UserRow): Promise<void>
  insertBucket(row: BucketRow): Promise<void>
  updateBucketRemaining(id: string, remaining: number): Promise<void>
  insertTransaction(row: TransactionRow): Promise<void>
  insertRefusal(row: RefusalRow): Promise<void>
  /**
   * Writes the usage totals of each whole UTC day in [from, to) (day starts) that has none yet and
   * no pending call, so reports add up days, then the per-user totals of each week (Monday to
   * Monday, UTC) touching the range whose seven days are all summarized; resolves to how many
   * days and weeks it summarized. Only days that can no longer change are given: the caller
   * passes days that ended.
   */
  summarizeUsageDays(
    projectId: string,
    from: number,
    to: number,
  ): Promise<{ days: number; weeks: number }>
  updateTransaction(row: TransactionRow): Promise<void>
  appendJournal(entries: JournalEntryInput[]): Promise<void>
  putIdempotency(row: IdempotencyRow): Promise<void>
  insertApiKey(row: ApiKeyRow): Promise<void>
  /** Marks a key revoked; false if the project has no such live key. */
  revokeApiKey(projectId: string, id: string, at: number): Promise<boolean>
  /** Forgets idempotency keys stored before `before`; returns how many. */
  pruneIdempotency(before: number): Promise<number>
}

/** A database the ledger runs on. */
export interface Store {
  /** Which engine, for messages and metrics. */
  readonly kind: 'sqlite' | 'postgres'
  /**
   * Runs `work` as one atomic unit that may write. The store decides isolation (SQLite: one
   * writer at a time; PostgreSQL: row locks) and retries the whole unit on a transient conflict,
   * so `work` must be safe to run again. Units that arrive together may be committed in one
   * transaction (group commit); one that fails is undone alone.
   */
  write<T>(work: (tx: StoreWriter) => Promise<T>, options?: WriteUnitOptions): Promise<T>
  /** Runs `work` on a consistent snapshot, without writing. */
  read<T>(work: (tx: StoreReader) => Promise<T>): Promise<T>
  /** Resolves once the database answers and its schema is current (migrations applied). */
  ready(): Promise<void>
  /** Counters for metrics: units of work run and database commits made. */
  stats(): StoreStats
  close(): Promise<void>
}

/** Options of one unit of work. */
export type WriteUnitOptions = {
  /**
   * The user the unit locks first (its rows are the only ones it changes) and the transaction it
   * then reads, if known: a store may lock and read them ahead, together with other units' users.
   */
  user?: UnitUser
}

/** A user a unit of work locks (see `WriteUnitOptions.user`). */
export type UnitUser = { projectId: string; userId: string; transactionId?: string }

/** What a store has done since it opened. */
export type StoreStats = {
  /** Write units of work that committed. */
  writes: number
  /** Database transactions committed; below `writes` when group commit batched them. */
  commits: number
  /** Write units retried after a transient conflict (busy database, serialization failure). */
  retries: number
}
