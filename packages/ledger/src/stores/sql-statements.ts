import type { UsageDimension } from 'credly'
import { DAY_MS, WEEK_MS, weekStart } from '../calendar.ts'
import { MAX_MICRO } from '../money.ts'
import { KeptRows, RowChecks } from './kept-rows.ts'
import { insertText, rowUpdateText } from './merge-writes.ts'
import type {
  ApiKeyRow,
  BucketRow,
  JournalEntry,
  ProjectRow,
  StoreReader,
  StoreWriter,
  TransactionRow,
  UnitUser,
  UsageSums,
  UsageSumsQuery,
  UserRow,
} from './store.ts'

/*
 * The statements both SQL stores run, written once with `?` placeholders in SQL that SQLite and
 * PostgreSQL both accept. Each store supplies an executor (and PostgreSQL numbers the
 * placeholders); JSON goes in as text and comes back as text (SQLite) or parsed (JSONB).
 */

export type SqlValue = string | number | null
export type SqlRow = Record<string, unknown>

/**
 * Where a rate-limit window's spend sum is capped: above any limit plus any one call (each at
 * most MAX_CREDITS), and far below 2^53 micro-credits.
 */
const SPEND_SUM_CAP = 4 * MAX_MICRO

/** What a transaction counts against a rate limit: its reservation while pending, else its use. */
function spendOf(row: { status?: unknown; reserved?: unknown; used?: unknown }): number {
  return Number(row.status === 'pending' ? row.reserved : row.used)
}

/** Runs one statement inside the store's current transaction. */
export type SqlExecutor = {
  all(sql: string, params: SqlValue[]): Promise<SqlRow[]>
  /** Returns the number of rows changed. */
  run(sql: string, params: SqlValue[]): Promise<number>
  /**
   * A write whose result nobody reads, which the executor may send later, with the next
   * statement that reads or the COMMIT, merged with the others (`mergeWrites`: one round trip on
   * PostgreSQL, few statements on both). Without it, `run`.
   */
  defer?(sql: string, params: SqlValue[]): void
  /**
   * Runs statements one after another in one round trip (each sees what the ones before it did
   * and committed meanwhile) and answers each one's rows. Without it, one `all` each.
   */
  batch?(statements: Array<[sql: string, params: SqlValue[]]>): Promise<SqlRow[][]>
}

/** Sends a write now, or with the next statement where the executor can. */
async function write(db: SqlExecutor, sql: string, params: SqlValue[]): Promise<void> {
  if (db.defer) db.defer(sql, params)
  else await db.run(sql, params)
}

export function createSqlReader(db: SqlExecutor): StoreReader {
  const get = async (sql: string, params: SqlValue[]) => (await db.all(sql, params))[0]
  return {
    async getProject(id) {
      const row = await get('SELECT * FROM projects WHERE id = ?', [id])
      return row && toProjectRow(row)
    },
    async usageReport(query) {
      return usageReport(db, query)
    },
    async getUser(projectId, userId) {
      const row = await get(
        'SELECT * FROM users WHERE project_id = ? AND user_id = ? AND deleted_at IS NULL',
        [projectId, userId],
      )
      return row && toUserRow(row)
    },
    async listUsers(query) {
      const rows = await db.all(
        `SELECT * FROM users WHERE project_id = ? AND deleted_at IS NULL AND user_id > ?
         AND (CAST(? AS TEXT) IS NULL OR tier_id = ?) ORDER BY user_id LIMIT ?`,
        [
          query.project_id,
          query.after ?? '',
          query.tier_id ?? null,
          query.tier_id ?? null,
          query.limit,
        ],
      )
      return rows.map(toUserRow)
    },
    async listSpendableBuckets(userRef) {
      return (
        await db.all('SELECT * FROM buckets WHERE user_ref = ? AND remaining > 0', [userRef])
      ).map(toBucketRow)
    },
    async getBucket(id) {
      const row = await get('SELECT * FROM buckets WHERE id = ?', [id])
      return row && toBucketRow(row)
    },
    async getTransaction(projectId, id) {
      const row = await get('SELECT * FROM transactions WHERE project_id = ? AND id = ?', [
        projectId,
        id,
      ])
      return row && toTransactionRow(row)
    },
    async listTransactions(query) {
      const filters: Array<[string, SqlValue | undefined]> = [
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
      const params = present.map(([, value]) => value as SqlValue)
      if (query.before !== undefined) {
        where.push('(created_at < ? OR (created_at = ? AND id < ?))')
        params.push(query.before.created_at, query.before.created_at, query.before.id)
      }
      params.push(query.limit)
      const rows = await db.all(
        `SELECT * FROM transactions WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id DESC LIMIT ?`,
        params,
      )
      return rows.map(toTransactionRow)
    },
    async listExpiredPending(userRef, now) {
      const rows = await db.all(
        `SELECT * FROM transactions WHERE user_ref = ? AND status = 'pending' AND expires_at <= ?
         ORDER BY expires_at, id`,
        [userRef, now],
      )
      return rows.map(toTransactionRow)
    },
    async sumSpendSince(user, since) {
      // Capped in SQL, so the sum reaches JavaScript as an exact integer however much was spent.
      // By app user id and time (the index a user's history is listed by), then by `ref`: a
      // deleted user's calls under the same id do not count.
      const row = await get(
        `SELECT CASE WHEN total > ? THEN ? ELSE total END AS total FROM (
           SELECT COALESCE(SUM(CASE WHEN status = 'pending' THEN reserved ELSE used END), 0) AS total
           FROM transactions
           WHERE project_id = ? AND user_id = ? AND created_at >= ? AND user_ref = ?) AS spend`,
        [SPEND_SUM_CAP, SPEND_SUM_CAP, user.project_id, user.user_id, since, user.ref],
      )
      return Number(row?.total ?? 0)
    },
    async nextExpiry(userRef) {
      const row = await get(
        `SELECT MIN(at) AS at FROM (
           SELECT MIN(expires_at) AS at FROM buckets WHERE user_ref = ? AND remaining > 0 AND expires_at IS NOT NULL
           UNION ALL
           SELECT MIN(expires_at) AS at FROM transactions WHERE user_ref = ? AND status = 'pending') AS soonest`,
        [userRef, userRef],
      )
      return row?.at === null || row?.at === undefined ? null : Number(row.at)
    },
    async getIdempotency(projectId, scope, key) {
      const row = await get(
        'SELECT * FROM idempotency WHERE project_id = ? AND scope = ? AND key = ?',
        [projectId, scope, key],
      )
      return (
        row && {
          project_id: row.project_id as string,
          scope: row.scope as string,
          key: row.key as string,
          request_hash: row.request_hash as string,
          response: json(row.response),
          created_at: Number(row.created_at),
        }
      )
    },
    async readJournal(projectId, afterSeq, limit) {
      const rows = await db.all(
        'SELECT * FROM journal WHERE project_id = ? AND seq > ? ORDER BY seq LIMIT ?',
        [projectId, afterSeq, limit],
      )
      return rows.map(
        (row): JournalEntry => ({
          seq: Number(row.seq),
          project_id: row.project_id as string,
          user_ref: row.user_ref as string,
          kind: row.kind as JournalEntry['kind'],
          amount: Number(row.amount),
          debit: row.debit as JournalEntry['debit'],
          credit: row.credit as JournalEntry['credit'],
          transaction_id: (row.transaction_id as string | null) ?? null,
          at: Number(row.at),
          memo: json(row.memo) as JournalEntry['memo'],
        }),
      )
    },
    async listAllUsers(projectId) {
      return (await db.all('SELECT * FROM users WHERE project_id = ?', [projectId])).map(toUserRow)
    },
    async listAllBuckets(projectId) {
      return (await db.all('SELECT * FROM buckets WHERE project_id = ?', [projectId])).map(
        toBucketRow,
      )
    },
    async listAllTransactions(projectId) {
      return (await db.all('SELECT * FROM transactions WHERE project_id = ?', [projectId])).map(
        toTransactionRow,
      )
    },
    async listProjects() {
      return (await db.all('SELECT * FROM projects ORDER BY created_at, id', [])).map(toProjectRow)
    },
    async getApiKeyByHash(hash) {
      const row = await get('SELECT * FROM api_keys WHERE hash = ?', [hash])
      return row && toApiKeyRow(row)
    },
    async listApiKeys(projectId) {
      return (
        await db.all('SELECT * FROM api_keys WHERE project_id = ? ORDER BY created_at, id', [
          projectId,
        ])
      ).map(toApiKeyRow)
    },
    async listDueUsers(now, limit) {
      const rows = await db.all(
        `SELECT project_id, user_id FROM users WHERE deleted_at IS NULL AND next_event_at <= ?
         ORDER BY next_event_at LIMIT ?`,
        [now, limit],
      )
      return rows as Array<{ project_id: string; user_id: string }>
    },
  }
}

/**
 * The writer of one database transaction (make a new one for each), or, with `serialized`, of
 * every write transaction of a connection no other writer changes the database behind (the SQLite
 * store checks that at each BEGIN and calls `forget` when another connection wrote).
 * `lockUserSuffix` is what makes `lockUser` a row lock (` FOR UPDATE` on PostgreSQL; nothing on
 * SQLite, whose write transaction excludes all writers). Projects read are remembered: a batch of
 * operations loads its project once. Where the executor sends statements together (`batch`), the
 * first `lockUser` also locks and reads the `lockAhead` users, the batch's other units' users, in
 * the same round trip. With `kept` rows that carry versions (PostgreSQL), the rows of earlier
 * transactions are used without reading them and checked before this transaction writes
 * (`RowChecks`): `checks` says what to send first, `committed` takes the new version.
 */
export function createSqlWriter(
  db: SqlExecutor,
  options: {
    lockUserSuffix: string
    /** The transaction excludes every other writer (SQLite): all it reads stays current. */
    serialized?: boolean
    lockAhead?: readonly UnitUser[]
    /** Rows kept from earlier transactions (see `KeptRows`); a new set for this one by default. */
    kept?: KeptRows
    /**
     * Whether idempotency keys are taken as new without reading them (a round trip each on
     * PostgreSQL; on SQLite a read that sends the writes waiting): a key that was not makes its
     * insert, and so the transaction, fail with a unique violation, and the store runs the batch
     * again reading them.
     */
    assumeNewKeys?: () => boolean
  },
): StoreWriter & {
  /** Drops every row it holds: a unit or transaction was undone, or another writer wrote. */
  forget(): void
  /** How many rows it holds (a writer kept across transactions is trimmed by `forget`). */
  held(): number
  /** The statement to send before anything else this transaction sends next, if any. */
  checks(): [sql: string, params: SqlValue[]] | undefined
  /** After the commit, with the transaction's version (`xmin`) of the rows it wrote. */
  committed(version: string): void
} {
  const reader = createSqlReader(db)
  const kept = options.kept ?? new KeptRows()
  const rowChecks = new RowChecks(kept)
  // Rows this transaction reads stay current while it runs (their users are locked), and across
  // transactions when nothing else writes (`serialized`) or their versions are checked.
  const keepReads = options.serialized === true || kept.versioned
  const version = (table: string) => kept.versionColumn(table)
  // The columns of each user and transaction row as this transaction last read them, so that an
  // update writes only the columns it changes: fewer bytes, and no index rewritten whose columns
  // stay (on PostgreSQL, when no indexed column changes, a heap-only update is possible). An entry
  // follows its row as kept: replaced by what this writer writes (as the kept row is changed in
  // place), dropped when the row is read from the database again, and all of them when a unit is
  // undone (`forget`). A kept row's entry is then current, and is not encoded again per read.
  const asRead = kept.asRead
  const remember = <T>(key: string, row: T, values: (row: T) => SqlValue[]): T => {
    if (!asRead.has(key)) asRead.set(key, values(row))
    return row
  }
  /** Writes the columns of `values` that differ from the row as read (all when not read). */
  const update = async (
    table: 'users' | 'transactions',
    columns: readonly string[],
    values: SqlValue[],
    where: [column: string, value: string],
  ): Promise<void> => {
    const key = `${table}:${where[1]}`
    const before = asRead.get(key)
    asRead.set(key, values)
    // A loop, not array methods: this runs for every user and transaction a unit writes. The
    // changed columns as bits (at most 32 columns) name the statement's text.
    let changed = 0
    const params: SqlValue[] = []
    for (let index = 0; index < columns.length; index++) {
      if (columns[index] === where[0] || before?.[index] === values[index]) continue
      changed |= 1 << index
      params.push(values[index] as SqlValue)
    }
    if (changed === 0) return
    rowChecks.wrote(table, where[1])
    params.push(where[1])
    await write(db, updateText(table, columns, where[0], changed), params)
  }
  const rememberUser = (row: UserRow) => remember(`users:${row.ref}`, row, userValues)
  const rememberTransaction = (row: TransactionRow) =>
    remember(`transactions:${row.id}`, row, transactionValues)
  // A project this writer writes is read again; `forget` drops the rest if that write is undone.
  const projects = kept.projects
  // The rows of the users this transaction locked, their spendable buckets and their transactions,
  // as the database has them now: read under the lock, then kept up to date by this writer's own
  // writes. Nobody else can change them while the lock is held, so a user's next unit in the batch
  // reads them here. Cleared when a unit is undone (`forget`). `null`: none in the database (kept
  // only when `serialized`).
  const heldUsers = kept.users
  const heldBuckets = kept.buckets
  const heldTransactions = kept.transactions
  let toLockAhead = options.lockAhead ?? []

  /**
   * Locks users (in `ref` order, as every instance does, so two batches do not deadlock) and
   * reads, each by a statement of its own after the locks are held (as current as a separate read
   * would be), their spendable buckets, their projects and the transactions named, in one round
   * trip. A user already held is not read again.
   */
  async function lockTogether(
    batch: NonNullable<SqlExecutor['batch']>,
    users: readonly UnitUser[],
  ): Promise<void> {
    const toLock = new Map<string, [projectId: string, userId: string]>()
    const toRead = new Map<string, [projectId: string, transactionId: string]>()
    for (const { projectId, userId, transactionId } of users) {
      const key = pairKey(projectId, userId)
      const held = heldUsers.get(key)
      // Kept from an earlier transaction: checked (and locked) ahead of what this round trip reads.
      if (held) rowChecks.use('users', held.ref as string)
      else if (held === undefined) toLock.set(key, [projectId, userId])
      if (transactionId !== undefined && !heldTransactions.has(pairKey(projectId, transactionId)))
        toRead.set(pairKey(projectId, transactionId), [projectId, transactionId])
    }
    const statements: Array<[string, SqlValue[]]> = []
    if (toLock.size > 0) {
      const [userWhere, userParams] = usersIn([...toLock.values()])
      statements.push(
        [
          `SELECT *${version('users')} FROM users WHERE deleted_at IS NULL AND (${userWhere('')})
           ORDER BY ref${options.lockUserSuffix}`,
          userParams,
        ],
        [
          `SELECT buckets.*${version('buckets')} FROM buckets JOIN users ON users.ref = buckets.user_ref
           WHERE users.deleted_at IS NULL AND (${userWhere('users.')}) AND buckets.remaining > 0`,
          userParams,
        ],
      )
    }
    // The projects too, unless this writer has them.
    const projectIds = [...new Set([...toLock.values()].map(([projectId]) => projectId))].filter(
      (id) => !projects.has(id),
    )
    if (projectIds.length > 0)
      statements.push([
        `SELECT *${version('projects')} FROM projects WHERE id IN (${projectIds.map(() => '?').join(', ')})`,
        projectIds,
      ])
    if (toRead.size > 0) {
      // By id alone (the primary key; ids are unique across projects), the project checked
      // below: with the project in the condition PostgreSQL also walked the project's every
      // transaction in an index led by project_id.
      const ids = [...toRead.values()].map(([, id]) => id)
      statements.push([
        `SELECT *${version('transactions')} FROM transactions WHERE id IN (${ids.map(() => '?').join(', ')})`,
        ids,
      ])
    }
    if (statements.length === 0) return
    const results = await batch(statements)
    const [userRows = [], bucketRows = []] = toLock.size > 0 ? results.splice(0, 2) : []
    // A user not found is not kept: no row was locked, so another instance may create it.
    for (const row of userRows) {
      heldUsers.set(pairKey(row.project_id as string, row.user_id as string), row)
      asRead.delete(`users:${row.ref}`)
      rowChecks.read('users', row)
      const buckets = bucketRows.filter((bucket) => bucket.user_ref === row.ref)
      for (const bucket of buckets) rowChecks.read('buckets', bucket)
      heldBuckets.set(row.ref as string, buckets)
    }
    if (projectIds.length > 0) {
      const found = new Map((results.shift() ?? []).map((row) => [row.id as string, row]))
      for (const id of projectIds) {
        const row = found.get(id)
        if (row) rowChecks.read('projects', row)
        projects.set(id, row && toProjectRow(row))
      }
    }
    if (toRead.size === 0) return
    const found = new Map((results.shift() ?? []).map((row) => [row.id as string, row]))
    for (const [key, [projectId, id]] of toRead) {
      const row = found.get(id)
      // Current only if its user is held (every change to a transaction locks its user).
      const owner = row && heldUsers.get(pairKey(projectId, row.user_id as string))
      if (row && row.project_id === projectId && owner && owner.ref === row.user_ref) {
        rowChecks.read('transactions', row)
        heldTransactions.set(key, row)
        asRead.delete(`transactions:${id}`)
      }
    }
  }

  /** Adds to a user's kept window what a transaction created at `createdAt` counts more now. */
  const addSpend = (userRef: string, createdAt: number, more: number) => {
    const window = kept.spend.get(userRef)
    if (!window || createdAt < window.since || more === 0) return
    window.total += more
    // Past the cap the database's capped sum is the answer: read it again.
    if (window.total >= SPEND_SUM_CAP || window.total < 0) kept.spend.delete(userRef)
  }

  return {
    ...reader,
    forget: () => kept.forget(),
    async sumSpendSince(user, since) {
      const window = kept.spend.get(user.ref)
      if (window?.since === since) return window.total
      const total = await reader.sumSpendSince(user, since)
      if (total < SPEND_SUM_CAP) kept.spend.set(user.ref, { since, total })
      else kept.spend.delete(user.ref)
      return total
    },
    held: () => kept.size(),
    getIdempotency: (projectId, scope, key) =>
      options.assumeNewKeys?.()
        ? Promise.resolve(undefined)
        : reader.getIdempotency(projectId, scope, key),
    checks: () => rowChecks.take(),
    committed: (version) => rowChecks.committed(version),
    async getTransaction(projectId, id) {
      const key = pairKey(projectId, id)
      let row = heldTransactions.get(key)
      if (row === undefined) {
        row =
          (
            await db.all(
              `SELECT *${version('transactions')} FROM transactions WHERE project_id = ? AND id = ?`,
              [projectId, id],
            )
          )[0] ?? null
        if (row) rowChecks.read('transactions', row)
        asRead.delete(`transactions:${id}`)
        // A row not found is kept only where nothing else writes (SQLite).
        if (options.serialized || (keepReads && row)) heldTransactions.set(key, row)
      } else if (row) rowChecks.use('transactions', id)
      return row ? rememberTransaction(toTransactionRow(row)) : undefined
    },
    async listSpendableBuckets(userRef) {
      let rows = heldBuckets.get(userRef)
      if (!rows) {
        rows = await db.all(
          `SELECT *${version('buckets')} FROM buckets WHERE user_ref = ? AND remaining > 0`,
          [userRef],
        )
        for (const row of rows) rowChecks.read('buckets', row)
        if (keepReads) heldBuckets.set(userRef, rows)
      } else for (const row of rows) rowChecks.use('buckets', row.id as string)
      return rows.map(toBucketRow)
    },
    async getProject(id) {
      if (!projects.has(id)) {
        const [row] = await db.all(`SELECT *${version('projects')} FROM projects WHERE id = ?`, [
          id,
        ])
        if (row) rowChecks.read('projects', row)
        projects.set(id, row && toProjectRow(row))
      } else if (projects.get(id)) rowChecks.use('projects', id)
      return projects.get(id)
    },
    async lockUser(projectId, userId, lockOptions = {}) {
      const { transactionId } = lockOptions
      const key = pairKey(projectId, userId)
      if (!db.batch) {
        if (!heldUsers.has(key)) {
          const [row] = await db.all(
            `SELECT * FROM users WHERE project_id = ? AND user_id = ? AND deleted_at IS NULL${options.lockUserSuffix}`,
            [projectId, userId],
          )
          // No row locked, no row kept, unless nothing else can write meanwhile.
          if (row || options.serialized) heldUsers.set(key, row ?? null)
          if (row) {
            rowChecks.read('users', row)
            asRead.delete(`users:${row.ref}`)
          }
        }
      } else {
        // What the caller reads next comes in the lock's round trip: the user's buckets, the
        // project, the transaction named (and the same for the users locked ahead).
        await lockTogether(db.batch, [...toLockAhead, { projectId, userId, transactionId }])
        toLockAhead = []
      }
      const row = heldUsers.get(key)
      // Deleted by this transaction: gone, as the locking read would say.
      if (!row || row.deleted_at !== null) return undefined
      return rememberUser(toUserRow(row))
    },
    async insertProject(row) {
      projects.delete(row.id)
      await db.run('INSERT INTO projects (id, config, created_at) VALUES (?, ?, ?)', [
        row.id,
        JSON.stringify(row.config),
        row.created_at,
      ])
    },
    async updateProjectConfig(id, config) {
      projects.delete(id)
      await db.run('UPDATE projects SET config = ? WHERE id = ?', [JSON.stringify(config), id])
    },
    async insertUser(row) {
      const changed = await db.run(
        `INSERT INTO users (ref, project_id, user_id, tier_id, available, held, metadata, created_at,
           refill_anchor, refills_applied, next_event_at, deleted_at, tier_as_of)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT DO NOTHING`,
        [
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
          row.tier_as_of,
        ],
      )
      // A new live user under this id: the next lockUser reads it.
      heldUsers.delete(pairKey(row.project_id, row.user_id))
      return changed === 1
    },
    async updateUser(row) {
      const values = userValues(row)
      await update('users', USER_COLUMNS, values, ['ref', row.ref])
      const key = pairKey(row.project_id, row.user_id)
      const held = heldUsers.get(key)
      if (held?.ref === row.ref) setColumns(held, USER_COLUMNS, values)
    },
    async insertBucket(row) {
      heldBuckets.add({ ...row })
      rowChecks.wrote('buckets', row.id)
      await write(
        db,
        `INSERT INTO buckets (id, project_id, user_ref, kind, credits, remaining, expires_at, reason, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          row.id,
          row.project_id,
          row.user_ref,
          row.kind,
          row.credits,
          row.remaining,
          row.expires_at,
          row.reason,
          row.created_at,
        ],
      )
    },
    async updateBucketRemaining(id, remaining) {
      heldBuckets.update(id, remaining)
      rowChecks.wrote('buckets', id)
      await write(db, 'UPDATE buckets SET remaining = ? WHERE id = ?', [remaining, id])
    },
    async insertTransaction(row) {
      const values = transactionValues(row)
      rowChecks.wrote('transactions', row.id)
      addSpend(row.user_ref, row.created_at, spendOf(row))
      await write(db, INSERT_TRANSACTION, values)
      asRead.set(`transactions:${row.id}`, values)
      heldTransactions.set(
        pairKey(row.project_id, row.id),
        setColumns({}, TRANSACTION_COLUMNS, values),
      )
    },
    async updateTransaction(row) {
      const values = transactionValues(row)
      await update('transactions', TRANSACTION_COLUMNS, values, ['id', row.id])
      const key = pairKey(row.project_id, row.id)
      const held = heldTransactions.get(key)
      // What it counted before is known only of a row held; else its user's window is read again.
      if (held) addSpend(row.user_ref, row.created_at, spendOf(row) - spendOf(held))
      else kept.spend.delete(row.user_ref)
      // A resolved transaction is rarely read again: not kept (a writer may live long).
      if (row.status !== 'pending') {
        heldTransactions.delete(key)
        asRead.delete(`transactions:${row.id}`)
        rowChecks.dropped('transactions', row.id)
      } else if (held) setColumns(held, TRANSACTION_COLUMNS, values)
    },
    async summarizeUsageDays(projectId, from, to) {
      const done = new Set(
        (
          await db.all('SELECT day FROM usage_days WHERE project_id = ? AND day >= ? AND day < ?', [
            projectId,
            from,
            to,
          ])
        ).map((row) => Number(row.day)),
      )
      const missing: number[] = []
      for (let day = from; day < to; day += DAY_MS) if (!done.has(day)) missing.push(day)
      if (missing.length === 0)
        return { days: 0, weeks: await summarizeUserWeeks(db, projectId, from, to) }
      // A day with a pending call may still change; it is read call by call until it has none.
      const open = new Set(
        (
          await db.all(
            `SELECT DISTINCT (created_at / ${DAY_MS}) * ${DAY_MS} AS day FROM transactions
             WHERE project_id = ? AND status = 'pending' AND created_at >= ? AND created_at < ?`,
            [projectId, missing[0] as number, (missing.at(-1) as number) + DAY_MS],
          )
        ).map((row) => Number(row.day)),
      )
      let summarized = 0
      for (const day of missing) {
        if (open.has(day)) continue
        try {
          await db.run(
            `INSERT INTO usage_day_totals (project_id, day, model, feature_identifier, tier_id, calls,
               ${FIGURES.map(([, , column]) => column).join(', ')})
             SELECT ?, ?, model, feature_identifier, tier_id, COUNT(*),
               ${FIGURES.map(([, expression]) => `SUM(${expression})`).join(', ')}
             FROM transactions WHERE project_id = ? AND created_at >= ? AND created_at < ?
             GROUP BY model, feature_identifier, tier_id`,
            [projectId, day, projectId, day, day + DAY_MS],
          )
        } catch (error) {
          // A day whose sums pass SQLite's 64-bit integers stays read call by call.
          if (/integer overflow/i.test((error as Error).message)) continue
          throw error
        }
        await db.run('INSERT INTO usage_days (project_id, day) VALUES (?, ?)', [projectId, day])
        summarized++
      }
      return { days: summarized, weeks: await summarizeUserWeeks(db, projectId, from, to) }
    },
    async insertRefusal(row) {
      await write(
        db,
        `INSERT INTO refusals (project_id, user_ref, user_id, tier_id, model, feature_identifier, reason,
           credits_required, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          row.project_id,
          row.user_ref,
          row.user_id,
          row.tier_id,
          row.model,
          row.feature_identifier,
          row.reason,
          row.credits_required,
          row.at,
        ],
      )
    },
    async appendJournal(entries) {
      // One statement per 500 entries: one round trip on PostgreSQL for a usual unit, and well
      // under SQLite's limit on bound parameters for a large one.
      for (let index = 0; index < entries.length; index += 500) {
        const chunk = entries.slice(index, index + 500)
        await write(
          db,
          journalInsertText(chunk.length),
          chunk.flatMap((entry) => [
            entry.project_id,
            entry.user_ref,
            entry.kind,
            entry.amount,
            entry.debit,
            entry.credit,
            entry.transaction_id,
            entry.at,
            entry.memo === null ? null : JSON.stringify(entry.memo),
          ]),
        )
      }
    },
    async putIdempotency(row) {
      await write(
        db,
        'INSERT INTO idempotency (project_id, scope, key, request_hash, response, created_at) VALUES (?, ?, ?, ?, ?, ?)',
        [
          row.project_id,
          row.scope,
          row.key,
          row.request_hash,
          JSON.stringify(row.response ?? null),
          row.created_at,
        ],
      )
    },
    async insertApiKey(row) {
      await db.run(
        `INSERT INTO api_keys (id, project_id, name, scope, prefix, hash, created_at, revoked_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          row.id,
          row.project_id,
          row.name,
          row.scope,
          row.prefix,
          row.hash,
          row.created_at,
          row.revoked_at,
        ],
      )
    },
    async revokeApiKey(projectId, id, at) {
      const changed = await db.run(
        'UPDATE api_keys SET revoked_at = ? WHERE project_id = ? AND id = ? AND revoked_at IS NULL',
        [at, projectId, id],
      )
      return changed === 1
    },
    async pruneIdempotency(before) {
      return db.run('DELETE FROM idempotency WHERE created_at < ?', [before])
    },
  }
}

const updateTexts = new Map<readonly string[], Map<number, string>>()
/** `rowUpdateText` of the `columns` whose bits are set in `changed`, remembered by those bits. */
function updateText(
  table: string,
  columns: readonly string[],
  key: string,
  changed: number,
): string {
  let texts = updateTexts.get(columns)
  if (!texts) {
    texts = new Map()
    updateTexts.set(columns, texts)
  }
  let text = texts.get(changed)
  if (text === undefined) {
    text = rowUpdateText(
      table,
      key,
      columns.filter((_, index) => (changed & (1 << index)) !== 0),
    )
    // A few sets of columns change together; keep the map bounded anyway.
    if (texts.size < 1000) texts.set(changed, text)
  }
  return text
}

/** Sets `columns` of `row` to `values` (encoded as they are written); returns `row`. */
function setColumns(row: SqlRow, columns: readonly string[], values: SqlValue[]): SqlRow {
  for (let index = 0; index < columns.length; index++) row[columns[index] as string] = values[index]
  return row
}

/**
 * A condition matching these users (by project and app user id), written per project as
 * `project_id = ? AND user_id IN (...)`: one condition on the (project_id, user_id) index for
 * PostgreSQL, and the project's id sent once rather than with every user. `prefix` qualifies the
 * columns (`users.`).
 */
function usersIn(
  users: ReadonlyArray<[projectId: string, userId: string]>,
): [where: (prefix: string) => string, params: SqlValue[]] {
  const byProject = new Map<string, string[]>()
  for (const [projectId, userId] of users) {
    const ids = byProject.get(projectId)
    if (ids) ids.push(userId)
    else byProject.set(projectId, [userId])
  }
  const groups = [...byProject.values()]
  return [
    (prefix) =>
      groups
        .map(
          (ids) =>
            `(${prefix}project_id = ? AND ${prefix}user_id IN (${ids.map(() => '?').join(', ')}))`,
        )
        .join(' OR '),
    [...byProject].flatMap(([projectId, ids]) => [projectId, ...ids]),
  ]
}

/** A key of two ids (a user or a transaction within its project). */
const pairKey = (projectId: string, userId: string) => `${projectId}\u0000${userId}`

/** A JSON column: text from SQLite, already parsed from PostgreSQL's JSONB. */
function json(value: unknown): unknown {
  return typeof value === 'string' ? JSON.parse(value) : (value ?? null)
}

const numberOrNull = (value: unknown) =>
  value === null || value === undefined ? null : Number(value)

function toProjectRow(row: SqlRow): ProjectRow {
  return {
    id: row.id as string,
    config: json(row.config) as ProjectRow['config'],
    created_at: Number(row.created_at),
  }
}

function toUserRow(row: SqlRow): UserRow {
  return {
    ref: row.ref as string,
    project_id: row.project_id as string,
    user_id: row.user_id as string,
    tier_id: row.tier_id as string,
    available: Number(row.available),
    held: Number(row.held),
    metadata: json(row.metadata) as UserRow['metadata'],
    created_at: Number(row.created_at),
    refill_anchor: Number(row.refill_anchor),
    refills_applied: Number(row.refills_applied),
    next_event_at: numberOrNull(row.next_event_at),
    deleted_at: numberOrNull(row.deleted_at),
    tier_as_of: numberOrNull(row.tier_as_of),
  }
}

function toBucketRow(row: SqlRow): BucketRow {
  return {
    id: row.id as string,
    project_id: row.project_id as string,
    user_ref: row.user_ref as string,
    kind: row.kind as BucketRow['kind'],
    credits: Number(row.credits),
    remaining: Number(row.remaining),
    expires_at: numberOrNull(row.expires_at),
    reason: (row.reason as string | null) ?? null,
    created_at: Number(row.created_at),
  }
}

function toApiKeyRow(row: SqlRow): ApiKeyRow {
  return {
    id: row.id as string,
    project_id: row.project_id as string,
    name: (row.name as string | null) ?? null,
    scope: row.scope as ApiKeyRow['scope'],
    prefix: row.prefix as string,
    hash: row.hash as string,
    created_at: Number(row.created_at),
    revoked_at: numberOrNull(row.revoked_at),
  }
}

function toTransactionRow(row: SqlRow): TransactionRow {
  return {
    id: row.id as string,
    project_id: row.project_id as string,
    user_ref: row.user_ref as string,
    user_id: row.user_id as string,
    tier_id: (row.tier_id as string | null) ?? null,
    model: row.model as string,
    feature_identifier: (row.feature_identifier as string | null) ?? null,
    status: row.status as TransactionRow['status'],
    reserved: Number(row.reserved),
    used: Number(row.used),
    provisional_tokens: json(row.provisional_tokens) as TransactionRow['provisional_tokens'],
    finalized_tokens: json(row.finalized_tokens) as TransactionRow['finalized_tokens'],
    price: json(row.price) as TransactionRow['price'],
    price_source: json(row.price_source) as TransactionRow['price_source'],
    estimated: row.estimated === true || row.estimated === 1,
    created_at: Number(row.created_at),
    completed_at: numberOrNull(row.completed_at),
    expires_at: numberOrNull(row.expires_at),
    hold_parts: json(row.hold_parts) as TransactionRow['hold_parts'],
    complete_hash: (row.complete_hash as string | null) ?? null,
    complete_result: json(row.complete_result),
  }
}

/** The columns of a user row that change, in the order of `userValues`. */
const USER_COLUMNS = [
  'tier_id',
  'available',
  'held',
  'metadata',
  'refill_anchor',
  'refills_applied',
  'next_event_at',
  'deleted_at',
  'tier_as_of',
]

function userValues(row: UserRow): SqlValue[] {
  return [
    row.tier_id,
    row.available,
    row.held,
    JSON.stringify(row.metadata),
    row.refill_anchor,
    row.refills_applied,
    row.next_event_at,
    row.deleted_at,
    row.tier_as_of,
  ]
}

/** The columns of a transaction row, in the order of `transactionValues`. */
const TRANSACTION_COLUMNS = [
  'id',
  'project_id',
  'user_ref',
  'user_id',
  'model',
  'feature_identifier',
  'status',
  'reserved',
  'used',
  'provisional_tokens',
  'finalized_tokens',
  'price',
  'estimated',
  'created_at',
  'completed_at',
  'expires_at',
  'hold_parts',
  'complete_hash',
  'complete_result',
  'tier_id',
  'input_tokens',
  'cached_input_tokens',
  'cache_write_tokens',
  'output_tokens',
  'reasoning_tokens',
  'price_source',
]
// `update` names the changed columns of a row by the bits of a 32-bit integer.
for (const columns of [USER_COLUMNS, TRANSACTION_COLUMNS])
  if (columns.length > 31) throw new Error('ledger: an updated table has more than 31 columns')

/**
 * The statements built from parts, each text built once and then the same string: the stores key
 * their prepared statements and merge plans by text, and a string built anew is hashed anew
 * (hundreds of characters, several lookups a write). An update's text: `rowUpdateText`.
 */
const INSERT_TRANSACTION = `INSERT INTO transactions (${TRANSACTION_COLUMNS.join(', ')})
         VALUES (${TRANSACTION_COLUMNS.map(() => '?').join(', ')})`

/** The insert of `rows` journal entries (`insertText`'s, so the same text `mergeWrites` makes). */
const journalInsertText = (rows: number) =>
  insertText(
    'INSERT INTO journal (project_id, user_ref, kind, amount, debit, credit, transaction_id, at, memo) VALUES ',
    9,
    rows,
  )

function transactionValues(row: TransactionRow): SqlValue[] {
  const text = (value: unknown) =>
    value === null || value === undefined ? null : JSON.stringify(value)
  // The finalized counts also as columns, which usage reports add up.
  const tokens = row.finalized_tokens ?? {}
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
    text(row.provisional_tokens),
    text(row.finalized_tokens),
    JSON.stringify(row.price),
    // PostgreSQL reads '1'/'0' into a BOOLEAN column, SQLite keeps the integer.
    row.estimated ? 1 : 0,
    row.created_at,
    row.completed_at,
    row.expires_at,
    JSON.stringify(row.hold_parts),
    row.complete_hash,
    text(row.complete_result),
    row.tier_id,
    tokens.input_tokens ?? 0,
    tokens.cached_input_tokens ?? 0,
    tokens.cache_write_tokens ?? 0,
    tokens.output_tokens ?? 0,
    tokens.reasoning_tokens ?? 0,
    text(row.price_source),
  ]
}

/**
 * The SQL of a usage dimension over a table whose time column is `time`: a time bucket by
 * integer division (the same on SQLite and PostgreSQL), or a column both tables have.
 */
function dimensionSql(dimension: UsageDimension, time: string): string {
  switch (dimension) {
    case 'day':
      return `(${time} / 86400000) * 86400000`
    case 'hour':
      return `(${time} / 3600000) * 3600000`
    case 'feature':
      return 'feature_identifier'
    case 'user':
      return 'user_id'
    case 'tier':
      return 'tier_id'
    case 'model':
      return 'model'
  }
}

/** How a report sums a column exactly: its SQL, and reading the sum back as a BigInt. */
type ExactSum = {
  sql(expression: string, alias: string): string
  read(row: SqlRow, alias: string): bigint
}

const bigintOf = (value: unknown) => {
  const text = String(value ?? '0')
  return BigInt(text.includes('.') ? text.replace(/\.0*$/, '') : text)
}

/**
 * A plain SUM, read as text (exact past 2^53). PostgreSQL sums BIGINTs into NUMERIC, which cannot
 * overflow; SQLite fails the query with "integer overflow" past 2^63, and then the report runs
 * again with `splitSum`.
 */
const plainSum: ExactSum = {
  sql: (expression, alias) => `CAST(SUM(${expression}) AS TEXT) AS ${alias}`,
  read: (row, alias) => bigintOf(row[alias]),
}

/**
 * Every sum in two parts, `x / 1e6` and `x % 1e6`, each far from overflowing a 64-bit integer
 * over any number of rows; joined exactly in BigInt. About twice the work of a plain SUM, so only
 * for a project whose totals pass 2^63 micro-credits, in theory only.
 */
const splitSum: ExactSum = {
  sql: (expression, alias) =>
    `CAST(SUM((${expression}) / 1000000) AS TEXT) AS ${alias}_whole, CAST(SUM((${expression}) % 1000000) AS TEXT) AS ${alias}_part`,
  read: (row, alias) =>
    bigintOf(row[`${alias}_whole`]) * 1_000_000n + bigintOf(row[`${alias}_part`]),
}

const TOKEN_FIGURES = ['input', 'cached_input', 'cache_write', 'output', 'reasoning'] as const

/** Each figure of a report (its alias) as SQL over `transactions`, and its column in the totals. */
const FIGURES: Array<[alias: string, overCalls: string, totalsColumn: string]> = [
  ['charged', 'used', 'charged'],
  [
    'refunded',
    "CASE WHEN status <> 'pending' AND reserved > used THEN reserved - used ELSE 0 END",
    'refunded',
  ],
  ...TOKEN_FIGURES.map((kind): [string, string, string] => [
    kind,
    `${kind}_tokens`,
    `${kind}_tokens`,
  ]),
]

/**
 * Adds up a project's usage: calls from the day or user-week totals where whole periods are
 * summarized (see `summarizeUsageDays`), from the transactions themselves for the rest of the
 * range, and refused starts from their table.
 */
async function usageReport(db: SqlExecutor, query: UsageSumsQuery): Promise<UsageSums[]> {
  const dimensions = query.group_by
  const filters: Array<[string, SqlValue | undefined]> = [
    ['user_id = ?', query.user_id],
    ['model = ?', query.model],
    ['feature_identifier = ?', query.feature_identifier],
  ]
  const present = filters.filter(([, value]) => value !== undefined)
  const where = (time: string, from: number, to: number) => ({
    sql: [
      'project_id = ?',
      `${time} >= ?`,
      `${time} < ?`,
      ...present.map(([clause]) => clause),
    ].join(' AND '),
    params: [query.project_id, from, to, ...present.map(([, value]) => value as SqlValue)],
  })
  const select = (time: string) =>
    dimensions.map((dimension) => `${dimensionSql(dimension, time)} AS d_${dimension}`)
  const groupBy = (time: string) =>
    dimensions.length === 0
      ? ''
      : ` GROUP BY ${dimensions.map((dimension) => dimensionSql(dimension, time)).join(', ')}`

  const groups = new Map<string, UsageSums>()
  const dimensionValue = (row: SqlRow, dimension: UsageDimension) => {
    const value = row[`d_${dimension}`]
    if (value === null || value === undefined) return null
    return dimension === 'day' || dimension === 'hour' ? Number(value) : String(value)
  }
  const groupOf = (row: SqlRow): UsageSums => {
    // A report by user alone has 10,000s of groups: its id is the value, not a JSON string.
    const values = dimensions.map((dimension) => dimensionValue(row, dimension))
    const id = values.length === 1 && values[0] !== null ? `=${values[0]}` : JSON.stringify(values)
    let group = groups.get(id)
    if (!group) {
      group = {
        key: Object.fromEntries(dimensions.map((dimension, i) => [dimension, values[i] ?? null])),
        calls: 0,
        charged: 0n,
        refunded: 0n,
        tokens: { input: 0n, cached_input: 0n, cache_write: 0n, output: 0n, reasoning: 0n },
        refused: { insufficient_credits: 0, rate_limited: 0 },
      }
      groups.set(id, group)
    }
    return group
  }
  /** Adds rows of calls and sums (read by `sum`) into their groups. */
  const addCalls = ([rows, sum]: [SqlRow[], ExactSum]) => {
    for (const row of rows) {
      // Without GROUP BY an empty range still yields one row, of nothing.
      if (Number(row.calls ?? 0) === 0) continue
      const group = groupOf(row)
      group.calls += Number(row.calls)
      group.charged += sum.read(row, 'charged')
      group.refunded += sum.read(row, 'refunded')
      for (const kind of TOKEN_FIGURES) group.tokens[kind] += sum.read(row, kind)
    }
  }

  // Whole periods already summarized, where their totals can serve the report.
  const summary = summaryFor(query)
  const periods = summary
    ? (
        await db.all(
          `SELECT ${summary.column} AS start FROM ${summary.marks}
           WHERE project_id = ? AND ${summary.column} >= ? AND ${summary.column} <= ?
           ORDER BY ${summary.column}`,
          [query.project_id, query.from, query.to - summary.span],
        )
      ).map((row) => Number(row.start))
    : []
  if (summary && periods.length > 0) {
    const totals = where(
      summary.column,
      periods[0] as number,
      (periods.at(-1) as number) + summary.span,
    )
    addCalls(
      await sumWithFallback((sum) =>
        db.all(
          `SELECT ${[
            ...select(summary.column),
            'SUM(calls) AS calls',
            ...FIGURES.map(([alias, , column]) => sum.sql(column, alias)),
          ].join(', ')} FROM ${summary.table} WHERE ${totals.sql}${groupBy(summary.column)}`,
          totals.params,
        ),
      ),
    )
  }
  // The rest of the range, read call by call.
  for (const [from, to] of rangesBetween(query.from, query.to, periods, summary?.span ?? 0)) {
    const calls = where('created_at', from, to)
    addCalls(
      await sumWithFallback((sum) =>
        db.all(
          `SELECT ${[
            ...select('created_at'),
            'COUNT(*) AS calls',
            ...FIGURES.map(([alias, expression]) => sum.sql(expression, alias)),
          ].join(', ')} FROM transactions WHERE ${calls.sql}${groupBy('created_at')}`,
          calls.params,
        ),
      ),
    )
  }

  const refused = where('at', query.from, query.to)
  const refusalRows = await db.all(
    `SELECT ${[
      ...select('at'),
      "SUM(CASE WHEN reason = 'insufficient_credits' THEN 1 ELSE 0 END) AS insufficient",
      "SUM(CASE WHEN reason = 'rate_limited' THEN 1 ELSE 0 END) AS limited",
    ].join(', ')} FROM refusals WHERE ${refused.sql}${groupBy('at')}`,
    refused.params,
  )
  for (const row of refusalRows) {
    const insufficient = Number(row.insufficient ?? 0)
    const limited = Number(row.limited ?? 0)
    if (insufficient + limited === 0) continue
    groupOf(row).refused = { insufficient_credits: insufficient, rate_limited: limited }
  }
  return [...groups.values()]
}

/**
 * Writes the per-user totals of each week touching [from, to) whose seven days are summarized
 * (so nothing in it can change) and that has none yet; resolves to how many it wrote.
 */
async function summarizeUserWeeks(
  db: SqlExecutor,
  projectId: string,
  from: number,
  to: number,
): Promise<number> {
  const first = weekStart(from)
  const end = weekStart(to - 1) + WEEK_MS
  const daysDone = new Map<number, number>()
  for (const row of await db.all(
    'SELECT day FROM usage_days WHERE project_id = ? AND day >= ? AND day < ?',
    [projectId, first, end],
  )) {
    const week = weekStart(Number(row.day))
    daysDone.set(week, (daysDone.get(week) ?? 0) + 1)
  }
  const weeksDone = new Set(
    (
      await db.all(
        'SELECT week FROM usage_user_weeks WHERE project_id = ? AND week >= ? AND week < ?',
        [projectId, first, end],
      )
    ).map((row) => Number(row.week)),
  )
  let summarized = 0
  for (let week = first; week < end; week += WEEK_MS) {
    if (daysDone.get(week) !== 7 || weeksDone.has(week)) continue
    if (!(await sumsFitInt64(db, projectId, week, week + WEEK_MS))) continue
    await db.run(
      `INSERT INTO usage_user_week_totals (project_id, week, user_id, calls,
           ${FIGURES.map(([, , column]) => column).join(', ')})
         SELECT ?, ?, user_id, COUNT(*), ${FIGURES.map(([, expression]) => `SUM(${expression})`).join(', ')}
         FROM transactions WHERE project_id = ? AND created_at >= ? AND created_at < ?
         GROUP BY user_id`,
      [projectId, week, projectId, week, week + WEEK_MS],
    )
    await db.run('INSERT INTO usage_user_weeks (project_id, week) VALUES (?, ?)', [projectId, week])
    summarized++
  }
  return summarized
}

/**
 * Whether a time range's project-wide sums fit 64-bit integers (then so does every user's share,
 * as every figure is positive): per-user week totals are kept in 64 bits.
 */
async function sumsFitInt64(
  db: SqlExecutor,
  projectId: string,
  from: number,
  to: number,
): Promise<boolean> {
  try {
    const [row = {}] = await db.all(
      `SELECT ${FIGURES.map(([alias, expression]) => plainSum.sql(expression, alias)).join(', ')}
       FROM transactions WHERE project_id = ? AND created_at >= ? AND created_at < ?`,
      [projectId, from, to],
    )
    return FIGURES.every(([alias]) => plainSum.read(row, alias) <= INT64_MAX)
  } catch (error) {
    if (/integer overflow/i.test((error as Error).message)) return false
    throw error
  }
}

const INT64_MAX = 2n ** 63n - 1n

/**
 * Runs a query of sums with plain SUMs, and again with split ones if SQLite's integer SUM
 * overflowed; resolves to the rows and the sum they were read with.
 */
async function sumWithFallback(
  query: (sum: ExactSum) => Promise<SqlRow[]>,
): Promise<[SqlRow[], ExactSum]> {
  try {
    return [await query(plainSum), plainSum]
  } catch (error) {
    if (!/integer overflow/i.test((error as Error).message)) throw error
    return [await query(splitSum), splitSum]
  }
}

/**
 * The totals that can serve a report, if any: day totals keep model, feature and tier (no user,
 * no hour); week totals keep only the user, for a report by user alone.
 */
function summaryFor(query: UsageSumsQuery) {
  const dimensions = query.group_by
  if (query.user_id !== undefined) return undefined
  if (!dimensions.some((dimension) => dimension === 'user' || dimension === 'hour'))
    return { marks: 'usage_days', table: 'usage_day_totals', column: 'day', span: DAY_MS }
  const filtered = query.model !== undefined || query.feature_identifier !== undefined
  if (!filtered && dimensions.length === 1 && dimensions[0] === 'user')
    return {
      marks: 'usage_user_weeks',
      table: 'usage_user_week_totals',
      column: 'week',
      span: WEEK_MS,
    }
  return undefined
}

/** The parts of [from, to) outside the given whole periods (sorted starts) of `span` ms. */
function rangesBetween(
  from: number,
  to: number,
  periods: number[],
  span: number,
): Array<[number, number]> {
  const ranges: Array<[number, number]> = []
  let cursor = from
  for (const start of periods) {
    if (start > cursor) ranges.push([cursor, start])
    cursor = Math.max(cursor, start + span)
  }
  if (cursor < to) ranges.push([cursor, to])
  return ranges
}
