import { closeSync, openSync } from 'node:fs'
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite'
import { commitBatch } from '../commit-batch.ts'
import { MAX_KEPT_ROWS } from '../kept-rows.ts'
import {
  createSqlReader,
  createSqlWriter,
  type SqlExecutor,
  type SqlRow,
} from '../sql-statements.ts'
import type { Store, StoreReader, StoreStats, StoreWriter } from '../store.ts'
import { deferredWrites } from './deferred-writes.ts'
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
 * writes that arrive together are committed as one transaction (group commit; one failing
 * operation does not undo the others, see `commitBatch`), and each caller is answered only after
 * the commit.
 */
export function createSqliteStore(options: SqliteStoreOptions): Store {
  if (options.path !== ':memory:') createPrivately(options.path)
  const db = new DatabaseSync(options.path, { timeout: options.busyTimeoutMs ?? 5000 })
  // Switching a new file to WAL takes an exclusive lock that SQLite does not wait for: another
  // process opening the same new file at that moment makes it fail at once, so wait and retry.
  retryWhileBusy(() => db.exec('PRAGMA journal_mode = WAL'))
  db.exec(`PRAGMA synchronous = ${options.synchronous ?? 'FULL'}`)
  db.exec('PRAGMA foreign_keys = ON')
  retryWhileBusy(() => migrate(db))

  const statements = new Map<string, StatementSync>()
  const prepare = (sql: string): StatementSync => {
    let statement = statements.get(sql)
    if (!statement) {
      statement = db.prepare(sql)
      statements.set(sql, statement)
    }
    return statement
  }
  const deferred = deferredWrites(prepare)
  const executor: SqlExecutor = {
    all: async (sql, params) => {
      deferred.flush()
      if (!sql.startsWith('SELECT')) deferred.writes()
      return prepare(sql).all(...(params as SQLInputValue[])) as SqlRow[]
    },
    run: async (sql, params) => {
      deferred.flush()
      deferred.writes()
      return Number(prepare(sql).run(...(params as SQLInputValue[])).changes)
    },
    defer: deferred.defer,
  }
  const reader = createSqlReader(executor)
  // One writer for every batch: the users, buckets, transactions and projects it read stay as the
  // database has them while only this connection writes, so a user's next batch reads nothing.
  // `PRAGMA data_version` changes when another connection (process) commits; then, or after a
  // rollback, or once it holds many rows, it forgets them all.
  // A key used before is rare (a client's retry): a batch's first attempt does not read keys, so
  // that nothing it reads sends the writes waiting, and its units' writes are merged.
  let batchAttempt = 1
  const writer = createSqlWriter(executor, {
    lockUserSuffix: '',
    serialized: true,
    assumeNewKeys: () => batchAttempt === 1,
  })
  const dataVersion = db.prepare('PRAGMA data_version')
  let seenVersion: unknown
  const exec = async (sql: string) => {
    if (sql.startsWith('ROLLBACK')) deferred.clear()
    else deferred.flush()
    db.exec(sql)
    if (!sql.startsWith('BEGIN')) return
    const version = (dataVersion.get() as { data_version: unknown }).data_version
    if (version !== seenVersion || writer.held() > MAX_KEPT_ROWS) writer.forget()
    seenVersion = version
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

  function runBatch(batch: Array<Extract<Job, { kind: 'write' }>>): Promise<void> {
    return commitBatch(
      batch,
      async (attempt) => {
        batchAttempt = attempt
        // SQLite's write lock, taken by BEGIN IMMEDIATE, already excludes every other writer. A
        // unit that fails before its writes reached the database is dropped alone; one whose
        // writes did undoes the batch.
        return {
          writer,
          exec,
          undone: writer.forget,
          mark: deferred.mark,
          discard: deferred.discard,
          release: () => undefined,
        }
      },
      {
        begin: 'BEGIN IMMEDIATE',
        retryable: (error) => isBusy(error) || isKeyUsed(error),
        maxAttempts: 20,
        // A used key needs no wait, only its read; another process's lock does.
        backoffMs: (attempt, error) => (isKeyUsed(error) ? 0 : 5 + Math.random() * 20 * attempt),
        stats,
      },
    )
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
    // Migrations ran when the file was opened.
    ready: async () => undefined,
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

/** Runs a synchronous step again while another process holds the lock it needs (up to ~5 s). */
function retryWhileBusy(step: () => void): void {
  for (let attempt = 1; ; attempt++) {
    try {
      step()
      return
    } catch (error) {
      if (!isBusy(error) || attempt >= 100) throw error
      // Opening a store is synchronous, so this waits synchronously too.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5 + Math.random() * 45)
    }
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

/** An idempotency key taken as new was not: the batch runs again reading its keys. */
function isKeyUsed(error: unknown): boolean {
  return /UNIQUE constraint failed: idempotency\./.test(String(error))
}

/**
 * Creates a new database file readable by its owner only (0600): it holds every balance and the
 * hashes of the API keys. SQLite gives its -wal and -shm files the same mode. An existing file
 * keeps the mode it has.
 */
function createPrivately(path: string): void {
  try {
    closeSync(openSync(path, 'wx', 0o600))
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
  }
}
