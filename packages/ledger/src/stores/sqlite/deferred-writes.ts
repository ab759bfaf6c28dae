import type { StatementSync } from 'node:sqlite'
import {
  byColumns,
  insertStatements,
  type Merged,
  mergeWrites,
  rowUpdateStatements,
  type Waiting,
} from '../merge-writes.ts'
import type { SqlValue } from '../sql-statements.ts'

/**
 * The writes of a SQLite batch whose results nobody reads, held back until the next statement
 * that reads or the COMMIT, then written as few statements (`mergeWrites`): a batch's journal
 * entries, transactions and idempotency keys as multi-row inserts, a user's and a bucket's
 * updates once however many units of the batch changed them (a batch of 64 starts for one user
 * writes its user and bucket rows once instead of 64 times). The inserts gain little: a
 * multi-row insert may fail halfway, so SQLite keeps a statement journal for it, which costs
 * about what the statements saved (docs/benchmarks.md, session 9).
 *
 * It also says whether the current job's writes reached the database: until they did, a job that
 * fails is undone by dropping them (`discard`); after, only a rollback of the batch undoes them.
 */
export function deferredWrites(prepare: (sql: string) => StatementSync) {
  let waiting: Waiting[] = []
  /** Where the current job's writes begin in `waiting`. */
  let mark = 0
  /** Whether the current job wrote to the database (or a write of the batch failed). */
  let wrote = false
  return {
    defer(sql: string, params: SqlValue[]): void {
      waiting.push({ sql, params })
    },
    /** Writes what waits. */
    flush(): void {
      if (waiting.length === 0) return
      const items = waiting
      waiting = []
      if (items.length > mark) wrote = true
      mark = 0
      try {
        for (const item of mergeWrites(items))
          for (const [sql, params] of sqliteStatements(item)) prepare(sql).run(...params)
      } catch (error) {
        // Which job's write failed is not known: none of them can be dropped alone.
        wrote = true
        throw error
      }
    },
    /** The current job runs a statement that may write. */
    writes(): void {
      wrote = true
    },
    /** The next job begins. */
    mark(): void {
      mark = waiting.length
      wrote = false
    },
    /** After the current job failed: drops its writes if none reached the database. */
    discard(): boolean {
      if (wrote) return false
      waiting.length = mark
      return true
    },
    /** The batch was rolled back: nothing waits. */
    clear(): void {
      waiting = []
      mark = 0
    },
  }
}

/** A merged write as SQLite statements with bound values: an update one row at a time. */
export function sqliteStatements(item: Merged): Array<[sql: string, params: SqlValue[]]> {
  switch (item.kind) {
    case 'statement':
      return [[item.sql, item.params]]
    case 'insert':
      return insertStatements(item)
    case 'update':
      return byColumns(item.rows).flatMap(([columns, rows]) =>
        rowUpdateStatements(item, columns, rows),
      )
  }
}
