import type { StatementSync } from 'node:sqlite'
import { byColumns, type Merged, mergeWrites, type Waiting } from '../merge-writes.ts'
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

/**
 * Row counts of the inserts a merged insert is split into, largest first: few distinct
 * statements to prepare (and keep) per table, few statements per batch.
 */
const CHUNKS = [64, 16, 4, 1]

const insertTexts = new Map<string, string[]>()
/** The text of an insert of `CHUNKS[chunk]` rows, remembered (it is the prepared statement's key). */
function insertText(into: string, width: number, chunk: number): string {
  let texts = insertTexts.get(into)
  if (!texts) {
    const row = `(${Array(width).fill('?').join(', ')})`
    texts = CHUNKS.map((size) => into + Array(size).fill(row).join(', '))
    // Our inserts are few; keep the map bounded anyway.
    if (insertTexts.size < 100) insertTexts.set(into, texts)
  }
  return texts[chunk] as string
}

/** A merged write as SQLite statements with bound values. */
export function sqliteStatements(item: Merged): Array<[sql: string, params: SqlValue[]]> {
  switch (item.kind) {
    case 'statement':
      return [[item.sql, item.params]]
    case 'insert': {
      const statements: Array<[string, SqlValue[]]> = []
      const rows = item.params.length / item.width
      let done = 0
      CHUNKS.forEach((size, index) => {
        for (; rows - done >= size; done += size)
          statements.push([
            insertText(item.into, item.width, index),
            item.params.slice(done * item.width, (done + size) * item.width),
          ])
      })
      return statements
    }
    case 'update':
      // One statement a row; its text once for the rows that set the same columns.
      return byColumns(item.rows).flatMap(([columns, rows]) => {
        const sql = `UPDATE ${item.table} SET ${columns.map((column) => `${column} = ?`).join(', ')} WHERE ${item.key} = ?`
        return rows.map(([key, row]): [string, SqlValue[]] => [
          sql,
          [...columns.map((column) => row.get(column) as SqlValue), key],
        ])
      })
  }
}
