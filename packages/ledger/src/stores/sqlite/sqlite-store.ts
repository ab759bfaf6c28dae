import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite'
import type {
  ApiKeyRow,
  BucketRow,
  IdempotencyRow,
  JournalEntry,
  JournalEntryInput,
  ProjectRow,
  Store,
  StoreReader,
  StoreStats,
  StoreWriter,
  TransactionListQuery,
  TransactionRow,
  UserListQuery,
  UserRow,
} from '../store.ts'
import { migrations } from './schema.ts'

/** Options of `createSqliteStore`. */
export type SqliteStoreOptions = {
  /** A file path, or `:memory:` for a ledger that lives as long as the process. */
  path: string
  /**
   * SQLite's `synchronous` setting. `FULL` (the default) syncs the WAL on every commit, so an
   * acknowledged operation survives a power cut. `NORMAL` syncs at checkpoints only: an operation
   * acknowledged just before a power cut (not a process crash) may be lost, in exchange for more
   * throughput. @default "FULL"
   */
  synchronous?: 'FULL' | 'NORMAL'
  /** How long a writer waits for another process's write lock, in ms. @default 5000 */
  busyTimeoutMs?: number
  /** The most operations committed together in one transaction (group commit). @default 256 */
  maxBatch?: number
}

type Job =
  | {
      kind: 'write'
      work: (tx: StoreWriter) => Promise<unknown>
      resolve: (value: unknown) => void
      reject: (error: unknown) => void
    }
  | {
      kind: 'read'
      work: (tx: StoreReader) => Promise<unknown>
      resolve: (value: unknown) => void
      reject: (error: unknown) => void
    }

const SQLITE_BUSY = 5
const SQLITE_LOCKED = 6

/**
 * The embedded store: one SQLite file through `node:sqlite` in WAL mode. Writes are serialised by
 * SQLite's write lock (`BEGIN IMMEDIATE`), so two processes can share a file; within a process,
 * writes that arrive together are committed as one transaction (group commit), each in its own
 * savepoint so one failing operation does not undo the others, and each caller is answered only
 * after the commit.
 */
export function createSqliteStore(options: SqliteStoreOptions): Store {
  const db = new DatabaseSync(options.path, { timeout: options.busyTimeoutMs ?? 5000 })
  db.exec('PRAGMA journal_mode = WAL')
  db.exec(`PRAGMA synchronous = ${options.synchronous ?? 'FULL'}`)
  db.exec('PRAGMA foreign_keys = ON')
  migrate(db)

  const statements = new Map<string, StatementSync>()
  const prepare = (sql: string): StatementSync => {
    let statement = statements.get(sql)
    if (!statement) {
      statement = db.prepare(sql)
      statements.set(sql, statement)
    }
    return statement
  }
  const all = (sql: string, ...params: SQLInputValue[]) =>
    prepare(sql).all(...params) as Record<string, unknown>[]
  const get = (sql: string, ...params: SQLInputValue[]) =>
    prepare(sql).get(...params) as Record<string, unknown> | undefined
  const run = (sql: string, ...params: SQLInputValue[]) => prepare(sql).run(...params)

  const reader: StoreReader = {
    async getProject(id) {
      const row = get('SELECT * FROM projects WHERE id = ?', id)
      return (
        row && {
          id: row.id as string,
          config: JSON.parse(row.config as string),
          created_at: row.created_at as number,
        }
      )
    },
    async getUser(projectId, userId) {
      const row = get(
        'SELECT * FROM users WHERE project_id = ? AND user_id = ? AND deleted_at IS NULL',
        projectId,
        userId,
      )
      return row && toUserRow(row)
    },
    async listUsers(query: UserListQuery) {
      const rows = all(
        `SELECT * FROM users WHERE project_id = ? AND deleted_at IS NULL AND user_id > ?
         AND (? IS NULL OR tier_id = ?) ORDER BY user_id LIMIT ?`,
        query.project_id,
        query.after ?? '',
        query.tier_id ?? null,
        query.tier_id ?? null,
        query.limit,
      )
      return rows.map(toUserRow)
    },
    async listSpendableBuckets(userRef) {
      return all(
        `SELECT * FROM buckets WHERE user_ref = ? AND remaining > 0
         ORDER BY expires_at IS NULL, expires_at, kind = 'grant', created_at, id`,
        userRef,
      ).map(toBucketRow)
    },
    async getBucket(id) {
      const row = get('SELECT * FROM buckets WHERE id = ?', id)
      return row && toBucketRow(row)
    },
    async getTransaction(projectId, id) {
      const row = get('SELECT * FROM transactions WHERE project_id = ? AND id = ?', projectId, id)
      return row && toTransactionRow(row)
    },
    async listTransactions(query: TransactionListQuery) {
      const filters: Array<[string, SQLInputValue | undefined]> = [
        ['project_id = ?', query.project_id],
        ['user_id = ?', query.user_id],
        ['status = ?', query.status],
        ['model = ?', query.model],
        ['feature_identifier = ?', query.feature_identifier],
        ['created_at >= ?', query.created_after],
        ['created_at < ?', query.created_before],
      ]
      const present = filters.filter(([, value]) => value !== undefined)
      const where = present.map(([clause]) => clause)
      const params = present.map(([, value]) => value as SQLInputValue)
      if (query.before !== undefined) {
        where.push('(created_at < ? OR (created_at = ? AND id < ?))')
        params.push(query.before.created_at, query.before.created_at, query.before.id)
      }
      params.push(query.limit)
      return all(
        `SELECT * FROM transactions WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id DESC LIMIT ?`,
        ...params,
      ).map(toTransactionRow)
    },
    async listExpiredPending(userRef, now) {
      return all(
        `SELECT * FROM transactions WHERE user_ref = ? AND status = 'pending' AND expires_at <= ?
         ORDER BY expires_at, id`,
        userRef,
        now,
      ).map(toTransactionRow)
    },
    async sumSpendSince(userRef, since) {
      const row = get(
        `SELECT COALESCE(SUM(CASE WHEN status = 'pending' THEN reserved ELSE used END), 0) AS total
         FROM transactions WHERE user_ref = ? AND created_at >= ?`,
        userRef,
        since,
      )
      return Number(row?.total ?? 0)
    },
    async nextExpiry(userRef) {
      const row = get(
        `SELECT MIN(at) AS at FROM (
           SELECT MIN(expires_at) AS at FROM buckets WHERE user_ref = ? AND remaining > 0 AND expires_at IS NOT NULL
           UNION ALL
           SELECT MIN(expires_at) AS at FROM transactions WHERE user_ref = ? AND status = 'pending')`,
        userRef,
        userRef,
      )
      return (row?.at as number | null | undefined) ?? null
    },
    async getIdempotency(projectId, scope, key) {
      const row = get(
        'SELECT * FROM idempotency WHERE project_id = ? AND scope = ? AND key = ?',
        projectId,
        scope,
        key,
      )
      return (
        row && {
          project_id: row.project_id as string,
          scope: row.scope as string,
          key: row.key as string,
          request_hash: row.request_hash as string,
          response: JSON.parse(row.response as string),
          created_at: row.created_at as number,
        }
      )
    },
    async readJournal(projectId, afterSeq, limit) {
      return all(
        'SELECT * FROM journal WHERE project_id = ? AND seq > ? ORDER BY seq LIMIT ?',
        projectId,
        afterSeq,
        limit,
      ).map(
        (row): JournalEntry => ({
          seq: row.seq as number,
          project_id: row.project_id as string,
          user_ref: row.user_ref as string,
          kind: row.kind as JournalEntry['kind'],
          amount: row.amount as number,
          debit: row.debit as JournalEntry['debit'],
          credit: row.credit as JournalEntry['credit'],
          transaction_id: (row.transaction_id as string | null) ?? null,
          at: row.at as number,
          memo: row.memo === null ? null : JSON.parse(row.memo as string),
        }),
      )
    },
    async listAllUsers(projectId) {
      return all('SELECT * FROM users WHERE project_id = ?', projectId).map(toUserRow)
    },
    async listAllBuckets(projectId) {
      return all('SELECT * FROM buckets WHERE project_id = ?', projectId).map(toBucketRow)
    },
    async listAllTransactions(projectId) {
      return all('SELECT * FROM transactions WHERE project_id = ?', projectId).map(toTransactionRow)
    },
    async listProjects() {
      return all('SELECT * FROM projects ORDER BY created_at, id').map((row) => ({
        id: row.id as string,
        config: JSON.parse(row.config as string),
        created_at: row.created_at as number,
      }))
    },
    async getApiKeyByHash(hash) {
      const row = get('SELECT * FROM api_keys WHERE hash = ?', hash)
      return row && toApiKeyRow(row)
    },
    async listApiKeys(projectId) {
      return all(
        'SELECT * FROM api_keys WHERE project_id = ? ORDER BY created_at, id',
        projectId,
      ).map(toApiKeyRow)
    },
    async listDueUsers(now, limit) {
      return all(
        `SELECT project_id, user_id FROM users WHERE deleted_at IS NULL AND next_event_at <= ?
         ORDER BY next_event_at LIMIT ?`,
        now,
        limit,
      ) as Array<{ project_id: string; user_id: string }>
    },
  }

  const writer: StoreWriter = {
    ...reader,
    // SQLite's write lock, taken by BEGIN IMMEDIATE, already excludes every other writer.
    lockUser: reader.getUser,
    async insertProject(row: ProjectRow) {
      run(
        'INSERT INTO projects (id, config, created_at) VALUES (?, ?, ?)',
        row.id,
        JSON.stringify(row.config),
        row.created_at,
      )
    },
    async updateProjectConfig(id, config) {
      run('UPDATE projects SET config = ? WHERE id = ?', JSON.stringify(config), id)
    },
    async insertUser(row: UserRow) {
      const result = run(
        `INSERT INTO users (ref, project_id, user_id, tier_id, available, held, metadata, created_at,
           refill_anchor, refills_applied, next_event_at, deleted_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT DO NOTHING`,
        row.ref,
        row.project_id,
        row.user_id,
        row.tier_id,
        row.available,
        row.held,
        JSON.stringify(row.metadata),
        row.created_at,
        row.refill_anchor,
        row.refills_applied,
        row.next_event_at,
        row.deleted_at,
      )
      return Number(result.changes) === 1
    },
    async updateUser(row: UserRow) {
      run(
        `UPDATE users SET tier_id = ?, available = ?, held = ?, metadata = ?, refill_anchor = ?,
           refills_applied = ?, next_event_at = ?, deleted_at = ? WHERE ref = ?`,
        row.tier_id,
        row.available,
        row.held,
        JSON.stringify(row.metadata),
        row.refill_anchor,
        row.refills_applied,
        row.next_event_at,
        row.deleted_at,
        row.ref,
      )
    },
    async insertBucket(row: BucketRow) {
      run(
        `INSERT INTO buckets (id, project_id, user_ref, kind, credits, remaining, expires_at, reason, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        row.id,
        row.project_id,
        row.user_ref,
        row.kind,
        row.credits,
        row.remaining,
        row.expires_at,
        row.reason,
        row.created_at,
      )
    },
    async updateBucketRemaining(id, remaining) {
      run('UPDATE buckets SET remaining = ? WHERE id = ?', remaining, id)
    },
    async insertTransaction(row: TransactionRow) {
      run(
        `INSERT INTO transactions (id, project_id, user_ref, user_id, model, feature_identifier, status,
           reserved, used, provisional_tokens, finalized_tokens, price, estimated, created_at, completed_at,
           expires_at, hold_parts, complete_hash, complete_result)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        ...transactionValues(row),
      )
    },
    async updateTransaction(row: TransactionRow) {
      const [id, ...rest] = transactionValues(row)
      run(
        `UPDATE transactions SET project_id = ?, user_ref = ?, user_id = ?, model = ?, feature_identifier = ?,
           status = ?, reserved = ?, used = ?, provisional_tokens = ?, finalized_tokens = ?, price = ?,
           estimated = ?, created_at = ?, completed_at = ?, expires_at = ?, hold_parts = ?, complete_hash = ?,
           complete_result = ?
         WHERE id = ?`,
        ...rest,
        id as SQLInputValue,
      )
    },
    async appendJournal(entries: JournalEntryInput[]) {
      for (const entry of entries) {
        run(
          `INSERT INTO journal (project_id, user_ref, kind, amount, debit, credit, transaction_id, at, memo)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          entry.project_id,
          entry.user_ref,
          entry.kind,
          entry.amount,
          entry.debit,
          entry.credit,
          entry.transaction_id,
          entry.at,
          entry.memo === null ? null : JSON.stringify(entry.memo),
        )
      }
    },
    async putIdempotency(row: IdempotencyRow) {
      run(
        'INSERT INTO idempotency (project_id, scope, key, request_hash, response, created_at) VALUES (?, ?, ?, ?, ?, ?)',
        row.project_id,
        row.scope,
        row.key,
        row.request_hash,
        JSON.stringify(row.response ?? null),
        row.created_at,
      )
    },
    async insertApiKey(row: ApiKeyRow) {
      run(
        `INSERT INTO api_keys (id, project_id, name, scope, prefix, hash, created_at, revoked_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        row.id,
        row.project_id,
        row.name,
        row.scope,
        row.prefix,
        row.hash,
        row.created_at,
        row.revoked_at,
      )
    },
    async revokeApiKey(projectId, id, at) {
      const result = run(
        'UPDATE api_keys SET revoked_at = ? WHERE project_id = ? AND id = ? AND revoked_at IS NULL',
        at,
        projectId,
        id,
      )
      return Number(result.changes) === 1
    },
    async pruneIdempotency(before) {
      return Number(run('DELETE FROM idempotency WHERE created_at < ?', before).changes)
    },
  }

  const maxBatch = options.maxBatch ?? 256
  const stats: StoreStats = { writes: 0, commits: 0, retries: 0 }
  const queue: Job[] = []
  let draining = false
  let closed = false

  function enqueue(job: Job): void {
    if (closed) {
      job.reject(new Error('The Credly SQLite store is closed.'))
      return
    }
    queue.push(job)
    if (!draining) {
      draining = true
      // Wait one turn of the event loop so that operations arriving together share a commit.
      setImmediate(() => void drain())
    }
  }

  async function drain(): Promise<void> {
    try {
      while (queue.length > 0) {
        const head = queue[0] as Job
        if (head.kind === 'read') {
          queue.shift()
          await runRead(head)
          continue
        }
        const batch: Array<Extract<Job, { kind: 'write' }>> = []
        while (batch.length < maxBatch && queue[0]?.kind === 'write')
          batch.push(queue.shift() as Extract<Job, { kind: 'write' }>)
        await runBatch(batch)
      }
    } finally {
      draining = false
    }
  }

  async function runRead(job: Extract<Job, { kind: 'read' }>): Promise<void> {
    try {
      // A deferred transaction gives the reads one snapshot even while another process writes.
      db.exec('BEGIN')
      try {
        job.resolve(await job.work(reader))
      } finally {
        db.exec('COMMIT')
      }
    } catch (error) {
      job.reject(error)
    }
  }

  async function runBatch(batch: Array<Extract<Job, { kind: 'write' }>>): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = []
      try {
        db.exec('BEGIN IMMEDIATE')
      } catch (error) {
        if (isBusy(error) && attempt < 20) {
          await new Promise((resolve) =>
            setTimeout(resolve, 5 + Math.random() * 20 * (attempt + 1)),
          )
          continue
        }
        for (const job of batch) job.reject(error)
        return
      }
      try {
        for (const job of batch) {
          db.exec('SAVEPOINT op')
          try {
            const value = await job.work(writer)
            db.exec('RELEASE op')
            outcomes.push({ ok: true, value })
          } catch (error) {
            db.exec('ROLLBACK TO op')
            db.exec('RELEASE op')
            outcomes.push({ ok: false, error })
          }
        }
        db.exec('COMMIT')
      } catch (error) {
        try {
          db.exec('ROLLBACK')
        } catch {
          // Already rolled back by SQLite.
        }
        if (isBusy(error) && attempt < 20) {
          stats.retries++
          continue
        }
        for (const job of batch) job.reject(error)
        return
      }
      stats.commits++
      stats.writes += outcomes.filter((outcome) => outcome.ok).length
      batch.forEach((job, index) => {
        const outcome = outcomes[index] as (typeof outcomes)[number]
        if (outcome.ok) job.resolve(outcome.value)
        else job.reject(outcome.error)
      })
      return
    }
  }

  return {
    kind: 'sqlite',
    write<T>(work: (tx: StoreWriter) => Promise<T>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        enqueue({ kind: 'write', work, resolve: resolve as (value: unknown) => void, reject })
      })
    },
    read<T>(work: (tx: StoreReader) => Promise<T>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        enqueue({ kind: 'read', work, resolve: resolve as (value: unknown) => void, reject })
      })
    },
    stats: () => ({ ...stats }),
    async close() {
      closed = true
      while (draining || queue.length > 0) await new Promise((resolve) => setImmediate(resolve))
      if (db.isOpen) db.close()
    },
  }
}

function migrate(db: DatabaseSync): void {
  const current = () =>
    Number((db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version)
  if (current() >= migrations.length) return
  db.exec('BEGIN IMMEDIATE')
  try {
    // Read again under the write lock: another process may have migrated meanwhile.
    for (let version = current(); version < migrations.length; version++) {
      db.exec(migrations[version] as string)
      db.exec(`PRAGMA user_version = ${version + 1}`)
    }
    db.exec('COMMIT')
  } catch (error) {
    db.exec('ROLLBACK')
    throw error
  }
}

function isBusy(error: unknown): boolean {
  const code = (error as { errcode?: number } | null)?.errcode
  return (
    code === SQLITE_BUSY ||
    code === SQLITE_LOCKED ||
    /database is locked|SQLITE_BUSY/i.test(String(error))
  )
}

function toUserRow(row: Record<string, unknown>): UserRow {
  return {
    ref: row.ref as string,
    project_id: row.project_id as string,
    user_id: row.user_id as string,
    tier_id: row.tier_id as string,
    available: row.available as number,
    held: row.held as number,
    metadata: JSON.parse(row.metadata as string),
    created_at: row.created_at as number,
    refill_anchor: row.refill_anchor as number,
    refills_applied: row.refills_applied as number,
    next_event_at: (row.next_event_at as number | null) ?? null,
    deleted_at: (row.deleted_at as number | null) ?? null,
  }
}

function toApiKeyRow(row: Record<string, unknown>): ApiKeyRow {
  return {
    id: row.id as string,
    project_id: row.project_id as string,
    name: (row.name as string | null) ?? null,
    scope: row.scope as ApiKeyRow['scope'],
    prefix: row.prefix as string,
    hash: row.hash as string,
    created_at: row.created_at as number,
    revoked_at: (row.revoked_at as number | null) ?? null,
  }
}

function toBucketRow(row: Record<string, unknown>): BucketRow {
  return {
    id: row.id as string,
    project_id: row.project_id as string,
    user_ref: row.user_ref as string,
    kind: row.kind as BucketRow['kind'],
    credits: row.credits as number,
    remaining: row.remaining as number,
    expires_at: (row.expires_at as number | null) ?? null,
    reason: (row.reason as string | null) ?? null,
    created_at: row.created_at as number,
  }
}

const parseJson = (value: unknown) =>
  value === null || value === undefined ? null : JSON.parse(value as string)

function toTransactionRow(row: Record<string, unknown>): TransactionRow {
  return {
    id: row.id as string,
    project_id: row.project_id as string,
    user_ref: row.user_ref as string,
    user_id: row.user_id as string,
    model: row.model as string,
    feature_identifier: (row.feature_identifier as string | null) ?? null,
    status: row.status as TransactionRow['status'],
    reserved: row.reserved as number,
    used: row.used as number,
    provisional_tokens: parseJson(row.provisional_tokens),
    finalized_tokens: parseJson(row.finalized_tokens),
    price: JSON.parse(row.price as string),
    estimated: row.estimated === 1,
    created_at: row.created_at as number,
    completed_at: (row.completed_at as number | null) ?? null,
    expires_at: (row.expires_at as number | null) ?? null,
    hold_parts: JSON.parse(row.hold_parts as string),
    complete_hash: (row.complete_hash as string | null) ?? null,
    complete_result: parseJson(row.complete_result),
  }
}

function transactionValues(row: TransactionRow): SQLInputValue[] {
  const json = (value: unknown) =>
    value === null || value === undefined ? null : JSON.stringify(value)
  return [
    row.id,
    row.project_id,
    row.user_ref,
    row.user_id,
    row.model,
    row.feature_identifier,
    row.status,
    row.reserved,
    row.used,
    json(row.provisional_tokens),
    json(row.finalized_tokens),
    JSON.stringify(row.price),
    row.estimated ? 1 : 0,
    row.created_at,
    row.completed_at,
    row.expires_at,
    JSON.stringify(row.hold_parts),
    row.complete_hash,
    json(row.complete_result),
  ]
}
