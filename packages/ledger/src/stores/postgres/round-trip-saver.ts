import pg from 'pg'
import {
  byColumns,
  insertStatements,
  type Merged,
  mergeWrites,
  rowUpdateStatements,
  type Waiting,
} from '../merge-writes.ts'
import type { SqlExecutor, SqlRow, SqlValue } from '../sql-statements.ts'

/** What a saver keeps of a connection across transactions. */
type ConnectionState = {
  /** What the connection has prepared (`PREPARE`), by name. */
  names: Set<string>
  /**
   * Settles once every query sent on the connection so far has been answered: the next waits for
   * it (`sendQuery`).
   */
  answered: Promise<unknown>
  /**
   * The `PREPARE`s of a query that failed, in order, and whether PostgreSQL could not tell a
   * value's type: which of them ran is read with the ROLLBACK.
   */
  unsure?: { head: Array<{ name: string; sql: string }>; indeterminate: boolean }
  /** A prepared statement's rows changed shape: the connection drops all it prepared. */
  stale?: boolean
}
const connectionStates = new WeakMap<pg.PoolClient, ConnectionState>()

/**
 * The name each template is prepared under on every connection, or null for a template that
 * cannot be: one that is not a query, or whose values' types PostgreSQL cannot tell (SQLSTATE
 * 42P18; its batch is run again, with the template inlined: our statements all prepare, but
 * a new one that does not must cost one retry, not a failed call).
 */
const statementNames = new Map<string, string | null>()

/**
 * Whether a store's connections prepare statements. Turned off for good when a statement a
 * connection prepared is gone (SQLSTATE 26000): a pooler in transaction mode (PgBouncer,
 * Supavisor) hands each transaction whichever server connection is free, and a prepared
 * statement lives on one; the batch is run again with its statements inlined.
 */
export type Preparing = { on: boolean }

/** SQLSTATE invalid_sql_statement_name: an `EXECUTE` of a statement this session has not prepared. */
export const NOT_PREPARED = '26000'
/** SQLSTATE indeterminate_datatype: a `PREPARE` could not tell a value's type. */
export const INDETERMINATE_TYPE = '42P18'
const FEATURE_NOT_SUPPORTED = '0A000'

/**
 * Whether a unit failed for the statements its connection prepared, and runs again: a template
 * PostgreSQL could not type (inlined from then on), a statement gone (a pooler: preparing is off
 * now), or one whose rows changed shape since it was prepared ("cached plan must not change result
 * type", SQLSTATE 0A000, from an `EXECUTE`: another instance's migration added a column to a table
 * a `SELECT *` reads; the connection drops what it prepared with the ROLLBACK).
 */
export function isPreparedStatementFailure(error: unknown): boolean {
  const { code, staleStatement } = (error ?? {}) as { code?: string; staleStatement?: boolean }
  return code === NOT_PREPARED || code === INDETERMINATE_TYPE || staleStatement === true
}

const MAX_PREPARED = 2000
const PREPARABLE = /^\s*(SELECT|INSERT|UPDATE|DELETE|WITH)\b/i

/**
 * A transaction's connection (a write batch's, or a read unit's) that sends as few round trips and
 * statements as it can, and has PostgreSQL parse and plan each statement once per connection.
 * BEGIN and the writes whose results nobody reads wait, and go in one simple-protocol query with
 * the next statement that needs an answer, or with the COMMIT, merged (`mergeWrites`: inserts of
 * many rows, updates of many rows at once). A batch is then two round trips, the locks and reads
 * and then the writes and COMMIT, or one when its rows are kept (`before` puts their check ahead
 * of the writes); a read of a user and its project three instead of four. Each statement goes as
 * `EXECUTE name(values)` of a statement the connection prepared the first time it sent the
 * template (a round trip then, once per template and connection): parsing, analysing and planning
 * every statement of every batch again was a third of PostgreSQL's time (docs/benchmarks.md). A
 * merged update of more than a few rows is planned each time instead (`postgresStatements`).
 * Values are inlined as quoted literals (as the driver's `escapeLiteral` quotes them); a quoted
 * literal takes its parameter's type, as a bound parameter does.
 */
export function roundTripSaver(
  client: pg.PoolClient,
  columnTypes: ReadonlyMap<string, string>,
  /** Whether to prepare statements; off, each goes with its values inlined. */
  preparing: Preparing = { on: true },
) {
  let waiting: Waiting[] = []
  /** Where the current job's statements begin in `waiting`, and whether one was sent already. */
  let mark = 0
  let markedSent = false
  /** What goes before anything else sent next (the writer's check of rows it kept). */
  let first: () => [string, SqlValue[]] | undefined = () => undefined
  const state = connectionStates.get(client) ?? {
    names: new Set<string>(),
    answered: Promise.resolve(),
  }
  connectionStates.set(client, state)
  const { names } = state
  /**
   * Sends `text` once the queries sent before it on the connection have been answered, so that
   * what is sent keeps the order of the calls (a unit's reads may overlap). `pg` would queue it
   * itself, but that queue is deprecated: pg 8.20 warns on the console, pg 9 drops it.
   */
  const sendQuery = <R = pg.QueryResult>(text: string): Promise<R> => {
    const result = state.answered.then(() => client.query(text)) as Promise<R>
    state.answered = result.catch(() => undefined)
    return result
  }
  /** Statements to prepare before the next query. */
  let toPrepare: Array<{ name: string; sql: string }> = []
  /** Queues `first`'s statement after a BEGIN not sent yet, ahead of the writes waiting. */
  const queueFirst = () => {
    const statement = first()
    if (statement === undefined) return
    const at = /^BEGIN/.test(waiting[0]?.sql ?? '') ? 1 : 0
    waiting.splice(at, 0, { sql: statement[0], params: statement[1] })
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
  /** A statement as the text that runs it: `EXECUTE` of its prepared statement, or inlined. */
  const text = (sql: string, params: SqlValue[]): string => {
    let name = statementNames.get(sql)
    if (name === undefined) {
      name =
        PREPARABLE.test(sql) && statementNames.size < MAX_PREPARED
          ? `credly_${statementNames.size}`
          : null
      statementNames.set(sql, name)
    }
    if (name === null || !preparing.on) return inline(sql, params)
    if (!names.has(name)) {
      names.add(name)
      toPrepare.push({ name, sql })
    }
    let out = `EXECUTE ${name}`
    for (let index = 0; index < params.length; index++)
      out += `${index === 0 ? '(' : ', '}${literal(params[index])}`
    return params.length === 0 ? out : `${out})`
  }
  /**
   * Sends `statements` (texts), after the `PREPARE`s they need, in a query of their own: a
   * statement prepared in a query of many keeps that whole query's text as its source. Both are
   * queued at once (`sendQuery`), so nothing sent by a later call comes between them.
   */
  const run = async (statements: string[]): Promise<pg.QueryResult[]> => {
    const head = toPrepare
    toPrepare = []
    const prepares =
      head.length > 0
        ? sendQuery(head.map(({ name, sql }) => `PREPARE ${name} AS ${numbered(sql)}`).join(';\n'))
        : undefined
    const main = sendQuery<pg.QueryResult | pg.QueryResult[]>(statements.join(';\n'))
    if (prepares) {
      try {
        await prepares
      } catch (error) {
        // What follows failed too, for want of the statements: this is the error to report.
        main.catch(() => undefined)
        state.unsure = {
          head,
          indeterminate: (error as { code?: string }).code === INDETERMINATE_TYPE,
        }
        throw error
      }
    }
    try {
      const results = await main
      return Array.isArray(results) ? results : [results]
    } catch (error) {
      const { code } = error as { code?: string }
      if (code === NOT_PREPARED) preparing.on = false
      // Our statements are all supported (the tests run each): from an EXECUTE, this is a
      // statement prepared before a migration changed its table.
      else if (
        code === FEATURE_NOT_SUPPORTED &&
        statements.some((statement) => statement.startsWith('EXECUTE'))
      ) {
        state.stale = true
        ;(error as { staleStatement?: boolean }).staleStatement = true
      }
      throw error
    }
  }
  /** What waits, as texts to send now. */
  const take = (): string[] => {
    queueFirst()
    if (waiting.length > mark) markedSent = true
    mark = 0
    const taken = waiting
    waiting = []
    const out: string[] = []
    for (const item of mergeWrites(taken, (table, column) => columnTypes.has(`${table}.${column}`)))
      for (const [sql, params, preparable] of postgresStatements(item, columnTypes))
        out.push(preparable ? text(sql, params) : inline(sql, params))
    return out
  }
  /** Sends what waits, then `statements`; resolves to the results of `statements`. */
  const send = async (...statements: string[]): Promise<pg.QueryResult[]> =>
    (await run([...take(), ...statements])).slice(-statements.length)
  const query = async (sql: string, params: SqlValue[]) =>
    (await send(text(sql, params))).at(-1) as pg.QueryResult
  const executor: SqlExecutor = {
    all: async (sql, params) => (await query(sql, params)).rows as SqlRow[],
    run: async (sql, params) => (await query(sql, params)).rowCount ?? 0,
    defer: (sql, params) => {
      waiting.push({ sql, params })
    },
    batch: async (statements) =>
      (await send(...statements.map(([statement, params]) => text(statement, params)))).map(
        (result) => result.rows as SqlRow[],
      ),
  }
  return {
    executor,
    exec: async (sql: string): Promise<void> => {
      if (/^ROLLBACK/i.test(sql)) {
        waiting = []
        // Never sent: not prepared.
        for (const { name } of toPrepare) names.delete(name)
        toPrepare = []
        const { unsure, stale } = state
        state.unsure = undefined
        state.stale = false
        if (stale) {
          // Every statement this connection prepared goes; each is prepared again when next sent.
          await sendQuery(`${sql}; DEALLOCATE ALL`)
          names.clear()
        } else if (unsure) {
          const [, current] = await sendQuery<pg.QueryResult[]>(
            `${sql}; SELECT name FROM pg_prepared_statements`,
          )
          names.clear()
          for (const row of current?.rows ?? []) names.add(row.name as string)
          // The PREPAREs ran in order up to the one that failed: the first not prepared now.
          const failed = unsure.head.find(({ name }) => !names.has(name))
          if (unsure.indeterminate && failed) statementNames.set(failed.sql, null)
        } else await sendQuery(sql)
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
      const [xid] = await send(text('SELECT txid_current() AS xid', []), 'COMMIT')
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
 * A merged write as PostgreSQL statements with bound values, and whether to prepare each: an
 * insert of many rows as inserts of 64, 16, 4 and 1 rows (few texts to prepare); an update of a
 * few rows one row at a time (by primary key: a plan that never changes), of more as one `UPDATE
 * ... FROM (VALUES ...)` per set of columns, each value cast to its column's type
 * (`columnTypes`, "table.column"), planned each time: a generic plan of such a join, made while
 * a table was small, kept scanning it whole once it had grown.
 */
export function postgresStatements(
  item: Merged,
  columnTypes: ReadonlyMap<string, string>,
): Array<[sql: string, params: SqlValue[], prepare: boolean]> {
  if (item.kind === 'statement') return [[item.sql, item.params, true]]
  if (item.kind === 'insert')
    return insertStatements(item).map(([sql, params]) => [sql, params, true])
  return byColumns(item.rows).flatMap(([columns, rows]) =>
    rows.length <= MAX_ROW_UPDATES
      ? rowUpdateStatements(item, columns, rows).map(
          ([sql, params]): [string, SqlValue[], boolean] => [sql, params, true],
        )
      : [
          [
            rowsUpdateText(item, columns, rows.length, columnTypes),
            rows.flatMap(([keyValue, row]) => [
              keyValue,
              ...columns.map((column) => row.get(column) as SqlValue),
            ]),
            false,
          ],
        ],
  )
}

/** The most rows of a table a batch updates one at a time. */
const MAX_ROW_UPDATES = 4

const rowsUpdateTexts = new Map<string, string>()
/** The text of an update of `size` rows of `columns`, remembered. */
function rowsUpdateText(
  item: Extract<Merged, { kind: 'update' }>,
  columns: string[],
  size: number,
  columnTypes: ReadonlyMap<string, string>,
): string {
  const id = `${item.table}.${columns.join(',')}.${size}`
  let text = rowsUpdateTexts.get(id)
  if (text === undefined) {
    const cast = (column: string) => `?::${columnTypes.get(`${item.table}.${column}`) ?? 'text'}`
    const row = `(${[cast(item.key), ...columns.map(cast)].join(', ')})`
    const set = columns.map((column) => `${column} = merged.${column}`).join(', ')
    text = `UPDATE ${item.table} SET ${set} FROM (VALUES ${Array(size).fill(row).join(', ')}) AS merged(merged_key, ${columns.join(', ')}) WHERE ${item.table}.${item.key} = merged.merged_key`
    // Our tables and their sets of columns are few; keep the map bounded anyway.
    if (rowsUpdateTexts.size < 1000) rowsUpdateTexts.set(id, text)
  }
  return text
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
const numbered = remembered((sql) =>
  templateParts(sql).reduce((out, part, index) => `${out}$${index}${part}`),
)
