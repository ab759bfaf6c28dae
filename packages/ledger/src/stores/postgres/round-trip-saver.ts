import pg from 'pg'
import { byColumns, type Merged, mergeWrites, type Waiting } from '../merge-writes.ts'
import type { SqlExecutor, SqlRow, SqlValue } from '../sql-statements.ts'

/**
 * A write transaction's connection that sends as few round trips and statements as it can: BEGIN
 * and the writes whose results nobody reads wait, and go in one simple-protocol query with the
 * next statement that needs an answer, or with the COMMIT, merged one statement per table
 * (`mergeWrites`). A batch is then two round trips, the locks and reads and then the writes and
 * COMMIT, or one when its rows are kept (`before` puts their check ahead of the writes). What
 * waited goes with its values inlined as quoted literals (as the driver's `escapeLiteral` quotes
 * them); a quoted literal takes its column's type, as a bound parameter does.
 */
export function roundTripSaver(client: pg.PoolClient, columnTypes: ReadonlyMap<string, string>) {
  let waiting: Waiting[] = []
  /** Where the current job's statements begin in `waiting`, and whether one was sent already. */
  let mark = 0
  let markedSent = false
  /** What goes before anything else sent next (the writer's check of rows it kept). */
  let first: () => [string, SqlValue[]] | undefined = () => undefined
  /** Queues `first`'s statement after a BEGIN not sent yet, ahead of the writes waiting. */
  const queueFirst = () => {
    const statement = first()
    if (statement === undefined) return
    const at = /^BEGIN/.test(waiting[0]?.sql ?? '') ? 1 : 0
    waiting.splice(at, 0, { sql: statement[0], params: statement[1] })
  }
  /** Takes what waits, to send now. */
  const take = () => {
    queueFirst()
    if (waiting.length > mark) markedSent = true
    mark = 0
    const taken = waiting
    waiting = []
    return mergeWrites(taken, (table, column) => columnTypes.has(`${table}.${column}`)).map(
      (item) =>
        item.kind === 'statement'
          ? inline(item.sql, item.params)
          : postgresText(item, columnTypes, literal),
    )
  }
  /** Sends what waits, then `statements`; resolves to their results. */
  const send = async (...statements: string[]): Promise<pg.QueryResult[]> => {
    const sql = [...take(), ...statements].join(';\n')
    const results = (await client.query(sql)) as pg.QueryResult | pg.QueryResult[]
    return (Array.isArray(results) ? results : [results]).slice(-statements.length)
  }
  const literal = (value: SqlValue | undefined) => {
    if (value === null || value === undefined) return 'NULL'
    // Most values need no escaping: quoted as the driver would, without its loop over every
    // character (a tenth of this process's time went to inlining values).
    if (typeof value === 'number') return `'${value}'`
    return value.includes("'") || value.includes('\\') ? client.escapeLiteral(value) : `'${value}'`
  }
  const inline = (sql: string, params: SqlValue[]) => {
    const parts = templateParts(sql)
    let out = parts[0] as string
    for (let index = 1; index < parts.length; index++)
      out += literal(params[index - 1]) + (parts[index] as string)
    return out
  }
  const query = async (sql: string, params: SqlValue[]) => {
    queueFirst()
    return waiting.length === 0
      ? await client.query(numbered(sql), params)
      : ((await send(inline(sql, params))).at(-1) as pg.QueryResult)
  }
  const executor: SqlExecutor = {
    all: async (sql, params) => (await query(sql, params)).rows as SqlRow[],
    run: async (sql, params) => (await query(sql, params)).rowCount ?? 0,
    defer: (sql, params) => {
      waiting.push({ sql, params })
    },
    batch: async (statements) => {
      const sql = [
        ...take(),
        ...statements.map(([statement, params]) => inline(statement, params)),
      ].join(';\n')
      const results = (await client.query(sql)) as pg.QueryResult | pg.QueryResult[]
      const all = Array.isArray(results) ? results : [results]
      // The answers of `statements` are the last ones (what waited may be several statements).
      return all.slice(all.length - statements.length).map((result) => result.rows as SqlRow[])
    },
  }
  return {
    executor,
    exec: async (sql: string): Promise<void> => {
      if (/^ROLLBACK/i.test(sql)) {
        waiting = []
        await client.query(sql)
      } else if (/^BEGIN/i.test(sql)) {
        waiting.push({ sql, params: [] })
      } else {
        await send(sql)
      }
    },
    /** Sets what goes before anything else sent next. */
    before: (statement: () => [string, SqlValue[]] | undefined): void => {
      first = statement
    },
    /** Commits; resolves to the transaction's id as `xmin` shows it (the low 32 bits). */
    commit: async (): Promise<string> => {
      const [xid] = await send('SELECT txid_current() AS xid', 'COMMIT')
      return String(Number(xid?.rows[0]?.xid) % 2 ** 32)
    },
    mark: (): void => {
      mark = waiting.length
      markedSent = false
    },
    discard: (error: unknown): boolean => {
      // An error of the database leaves the transaction aborted, whatever was sent.
      if (markedSent || error instanceof pg.DatabaseError) return false
      waiting = waiting.slice(0, mark)
      return true
    },
  }
}

/**
 * A merged insert or update (`mergeWrites`) as PostgreSQL text, its values inlined: the rows of an
 * insert after its `INTO ... VALUES`; an update's rows, per set of columns, as one `UPDATE ...
 * FROM (VALUES ...)`, each value cast to its column's type (`columnTypes`, "table.column").
 */
export function postgresText(
  item: Exclude<Merged, { kind: 'statement' }>,
  columnTypes: ReadonlyMap<string, string>,
  literal: (value: SqlValue) => string,
): string {
  if (item.kind === 'insert') {
    const rows: string[] = []
    for (let index = 0; index < item.params.length; index += item.width)
      rows.push(
        `(${item.params
          .slice(index, index + item.width)
          .map(literal)
          .join(', ')})`,
      )
    return item.into + rows.join(', ')
  }
  return byColumns(item.rows)
    .map(([columns, rows]) => {
      const values = rows
        .map(
          ([key, row]) =>
            `(${[literal(key), ...columns.map((column) => literal(row.get(column) as SqlValue))].join(', ')})`,
        )
        .join(', ')
      const set = columns
        .map(
          (column) => `${column} = merged.${column}::${columnTypes.get(`${item.table}.${column}`)}`,
        )
        .join(', ')
      return `UPDATE ${item.table} SET ${set} FROM (VALUES ${values}) AS merged(merged_key, ${columns.join(', ')}) WHERE ${item.table}.${item.key} = merged.merged_key`
    })
    .join(';\n')
}

/**
 * `make(sql)` for a template, remembered: our templates are few, but multi-row inserts vary in
 * length, so at most 1,000 are kept.
 */
function remembered<T>(make: (sql: string) => T): (sql: string) => T {
  const cache = new Map<string, T>()
  return (sql) => {
    let value = cache.get(sql)
    if (value === undefined) {
      value = make(sql)
      if (cache.size < 1000) cache.set(sql, value)
    }
    return value
  }
}

/** A template split at its `?` placeholders (our SQL has no `?` inside literals). */
const templateParts = remembered((sql) => sql.split('?'))

/** `?` placeholders to PostgreSQL's `$1, $2, ...`. */
export const numbered = remembered((sql) =>
  templateParts(sql).reduce((out, part, index) => `${out}$${index}${part}`),
)
