import type { SqlRow, SqlValue } from './sql-statements.ts'
import type { ProjectRow } from './store.ts'

/** The tables whose rows a writer keeps, and the column that identifies a row of each. */
export type KeptTable = 'users' | 'buckets' | 'transactions' | 'projects'
const KEY_COLUMN: Record<KeptTable, string> = {
  users: 'ref',
  buckets: 'id',
  transactions: 'id',
  projects: 'id',
}
/** In the order `credly_check_kept` takes them (PostgreSQL's schema). */
const TABLES: KeptTable[] = ['users', 'buckets', 'transactions', 'projects']

/** A PostgreSQL array literal of text values, each quoted. */
function arrayLiteral(values: string[]): string {
  return `{${values.map((value) => `"${value.replace(/["\\]/g, '\\$&')}"`).join(',')}}`
}

/**
 * Rows a store keeps across transactions at most, about 2 KB a user with their buckets: past it,
 * it starts afresh. Users seen again within a few batches (a hot set) stay; a rotation through
 * more users than this would not be served from memory anyway, and would only cost memory
 * (measured on SQLite: 10,000 users held, 21 MB of heap).
 */
export const MAX_KEPT_ROWS = 2_048

/**
 * The SQLSTATE of `credly_check_kept`, raised when a row kept from an earlier transaction changed
 * since (PostgreSQL; the migration that creates the function says so too).
 */
export const ROWS_CHANGED = 'CR001'

/**
 * What a writer knows of the rows it read and wrote: the users it locked (by project and user id;
 * `null`, none in the database), their spendable buckets, the transactions it read (by project and
 * id), the projects, and the columns of each user and transaction row as last read, so that an
 * update writes only what changed. The writer changes them in place as it writes. A writer makes
 * its own for one transaction; a store may keep one for every transaction:
 * - SQLite, whose write transactions exclude every other writer: the rows stay current while no
 *   other connection wrote (the store checks `PRAGMA data_version` and calls `forget`).
 * - PostgreSQL, where other instances write too (`versioned`): each row kept carries its version
 *   (`xmin`, the transaction that last wrote it), and a transaction that uses a row it did not read
 *   itself checks that version, with the row's user locked, before any of its writes (`RowChecks`).
 *   A batch of users seen before is then one round trip: no locking read ahead of the writes.
 */
export class KeptRows {
  readonly projects = new Map<string, ProjectRow | undefined>()
  readonly asRead = new Map<string, SqlValue[]>()
  readonly users = new Map<string, SqlRow | null>()
  readonly buckets = new HeldBuckets()
  readonly transactions = new Map<string, SqlRow | null>()
  /** By `table:id`, the version of a row kept (only when `versioned`). */
  readonly versions = new Map<string, string>()
  /**
   * By user `ref`, a rate-limit window's spend as `sumSpendSince` answered it (under its cap),
   * kept current by the writer's own writes of the user's transactions. It needs no version of
   * its own: every change to what a transaction counts (its reservation while pending, then what
   * it used) changes its user's `held` or `available`, so the user row's version (checked when the
   * user is used) changes with it.
   */
  readonly spend = new Map<string, { since: number; total: number }>()

  /** Whether rows carry versions, checked before use in a later transaction (PostgreSQL). */
  readonly versioned: boolean

  constructor(options: { versioned?: boolean } = {}) {
    this.versioned = options.versioned ?? false
  }

  /** What to add to a `SELECT table.*` for the row's version (nothing unless `versioned`). */
  versionColumn(table: string): string {
    return this.versioned ? `, ${table}.xmin::text AS row_version` : ''
  }

  /** Drops every row: a unit or transaction was undone, or another writer wrote. */
  forget(): void {
    this.projects.clear()
    this.asRead.clear()
    this.users.clear()
    this.buckets.clear()
    this.transactions.clear()
    this.versions.clear()
    this.spend.clear()
  }

  /**
   * Drops the rows of these users (by `ref`): their user rows, spendable buckets and transactions,
   * and what is remembered of them. Another writer changed them; the others stay.
   */
  forgetUsers(refs: ReadonlySet<string>): void {
    for (const [key, row] of this.users) {
      if (!row || !refs.has(row.ref as string)) continue
      this.users.delete(key)
      this.asRead.delete(`users:${row.ref}`)
      this.versions.delete(`users:${row.ref}`)
    }
    for (const [key, row] of this.transactions) {
      if (!row || !refs.has(row.user_ref as string)) continue
      this.transactions.delete(key)
      this.asRead.delete(`transactions:${row.id}`)
      this.versions.delete(`transactions:${row.id}`)
    }
    for (const ref of refs) {
      for (const id of this.buckets.forgetUser(ref)) this.versions.delete(`buckets:${id}`)
      this.spend.delete(ref)
    }
  }

  /** How many rows it holds, to start afresh past a bound. */
  size(): number {
    return (
      this.users.size +
      this.transactions.size +
      this.asRead.size +
      this.versions.size +
      this.spend.size
    )
  }
}

/**
 * One write transaction's use of kept rows (PostgreSQL): a row kept from an earlier transaction is
 * checked the first time this one uses it; one it read or wrote itself is current for the rest of
 * it. The checks go out before anything else the transaction sends next (`take`), so before any of
 * its writes, as one call of `credly_check_kept` (PostgreSQL's schema): it locks the users (in
 * `ref` order) and compares every version, and fails with `ROWS_CHANGED` when one differs (the
 * batch is then undone and runs again with nothing kept). A user's buckets and transactions change
 * only under the user's lock, so once the lock is held, the versions checked stay.
 */
export class RowChecks {
  readonly #kept: KeptRows
  /** Rows read, written or checked in this transaction, as `table:id`. */
  readonly #current = new Set<string>()
  readonly #toCheck: Array<[table: KeptTable, id: string, version: string]> = []
  readonly #written = new Set<string>()

  constructor(kept: KeptRows) {
    this.#kept = kept
  }

  /** A kept row is about to be used: checked, unless this transaction has it already. */
  use(table: KeptTable, id: string): void {
    if (!this.#kept.versioned) return
    const key = `${table}:${id}`
    if (this.#current.has(key)) return
    this.#current.add(key)
    // A row kept without a version cannot be checked: it fails the check, and is read again.
    this.#toCheck.push([table, id, this.#kept.versions.get(key) ?? 'none'])
  }

  /** A row read in this transaction (`row_version` selected with it): current, and kept so. */
  read(table: KeptTable, row: SqlRow): void {
    if (!this.#kept.versioned) return
    const id = row[KEY_COLUMN[table]] as string
    this.#current.add(`${table}:${id}`)
    this.#kept.versions.set(`${table}:${id}`, String(row.row_version))
  }

  /** A row this transaction inserted or updated: its version will be this transaction's. */
  wrote(table: KeptTable, id: string): void {
    if (!this.#kept.versioned) return
    this.#current.add(`${table}:${id}`)
    this.#written.add(`${table}:${id}`)
  }

  /** A row no longer kept (a resolved transaction): no version to remember for it. */
  dropped(table: KeptTable, id: string): void {
    this.#written.delete(`${table}:${id}`)
    this.#kept.versions.delete(`${table}:${id}`)
  }

  /** The statement that checks the rows used since the last call, if there are any. */
  take(): [sql: string, params: SqlValue[]] | undefined {
    if (this.#toCheck.length === 0) return undefined
    const ids = new Map<KeptTable, string[]>(TABLES.map((table) => [table, []]))
    const pairs = new Map<KeptTable, string[]>(TABLES.map((table) => [table, []]))
    for (const [table, id, version] of this.#toCheck.splice(0)) {
      ids.get(table)?.push(id)
      pairs.get(table)?.push(`${id}:${version}`)
    }
    return [
      `SELECT credly_check_kept(${TABLES.map(() => '?::text[], ?::text[]').join(', ')})`,
      TABLES.flatMap((table) => [
        arrayLiteral(ids.get(table) ?? []),
        arrayLiteral(pairs.get(table) ?? []),
      ]),
    ]
  }

  /** After the commit: the rows this transaction wrote have its version (`xmin`). */
  committed(version: string): void {
    for (const key of this.#written) this.#kept.versions.set(key, version)
  }
}

/**
 * The spendable buckets of the users a writer holds, by user and by id, kept as the writer's own
 * writes change them (the rows are the writer's own, changed in place).
 */
export class HeldBuckets {
  readonly #byUser = new Map<string, SqlRow[]>()
  readonly #byId = new Map<string, SqlRow>()

  get(userRef: string): SqlRow[] | undefined {
    return this.#byUser.get(userRef)
  }

  set(userRef: string, rows: SqlRow[]): void {
    this.#byUser.set(userRef, rows)
    for (const row of rows) this.#byId.set(row.id as string, row)
  }

  /** A new bucket: kept if its user's buckets are, and it has credits. */
  add(row: SqlRow): void {
    const rows = this.#byUser.get(row.user_ref as string)
    if (!rows || Number(row.remaining) <= 0) return
    rows.push(row)
    this.#byId.set(row.id as string, row)
  }

  update(id: string, remaining: number): void {
    const row = this.#byId.get(id)
    if (!row) {
      // A spent bucket spendable again, of a user whose buckets are not known: read them again.
      if (remaining > 0) this.clear()
      return
    }
    row.remaining = remaining
    if (remaining > 0) return
    this.#byId.delete(id)
    const rows = this.#byUser.get(row.user_ref as string) ?? []
    rows.splice(rows.indexOf(row), 1)
  }

  /** Drops a user's buckets; returns their ids. */
  forgetUser(userRef: string): string[] {
    const ids = (this.#byUser.get(userRef) ?? []).map((row) => row.id as string)
    for (const id of ids) this.#byId.delete(id)
    this.#byUser.delete(userRef)
    return ids
  }

  clear(): void {
    this.#byUser.clear()
    this.#byId.clear()
  }
}
