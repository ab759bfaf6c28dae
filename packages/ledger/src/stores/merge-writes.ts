import type { SqlValue } from './sql-statements.ts'

/**
 * A statement a store holds back, its values apart from its text. A write whose result nobody
 * reads (the writer's `defer`) waits with the next ones and is sent as few statements: see
 * `mergeWrites`.
 */
export type Waiting = { sql: string; params: SqlValue[] }

/**
 * What a deferred write may join: a plain `INSERT INTO t (columns) VALUES (?, ...), ...`, other
 * inserts with the same text up to the first row (`into`; `width` values a row); a plain
 * `UPDATE t SET c = ?, ... WHERE k = ?`, the other updates of the table.
 */
type Shape =
  | { kind: 'insert'; into: string; width: number }
  | { kind: 'update'; table: string; columns: string[]; key: string }

/** The writes of a batch as few statements, for the store to write in its SQL. */
export type Merged =
  /** A statement as it was deferred. */
  | { kind: 'statement'; sql: string; params: SqlValue[] }
  /** The rows of several inserts into one table: `into` (see `Shape`), then `width` values each. */
  | { kind: 'insert'; into: string; width: number; params: SqlValue[] }
  /** The updates of one table by its `key`, folded per row: each row's key to its new columns. */
  | { kind: 'update'; table: string; key: string; rows: Map<string, Map<string, SqlValue>> }

const shapes = new Map<string, Shape | undefined>()
function shapeOf(template: string): Shape | undefined {
  if (shapes.has(template)) return shapes.get(template)
  let shape: Shape | undefined
  const insert =
    /^(INSERT INTO \w+ \([\w\s,]+\)\s+VALUES )\(((?:\?, )*\?)\)(, \((\?, )*\?\))*$/.exec(template)
  const update = /^UPDATE (\w+) SET ((?:\w+ = \?, )*\w+ = \?) WHERE (\w+) = \?$/.exec(template)
  if (insert)
    shape = {
      kind: 'insert',
      into: insert[1] as string,
      width: (insert[2] as string).split(', ').length,
    }
  else if (update)
    shape = {
      kind: 'update',
      table: update[1] as string,
      columns: (update[2] as string).split(', ').map((part) => part.slice(0, part.indexOf(' '))),
      key: update[3] as string,
    }
  // Templates are few (multi-row inserts vary in length): keep the map bounded anyway.
  if (shapes.size < 1000) shapes.set(template, shape)
  return shape
}

/**
 * The same effect in fewer statements: the inserts into one table (same columns) become one
 * insert of all their rows, at the place of the first; the updates of one table (two or more)
 * are folded per row (later values win) and go at the place of the last. Moving an insert earlier
 * or an update later is safe: no waiting write before an insert concerns the row it inserts, and
 * no waiting write after an update reads what it set (a read sends what waits first). A store
 * defers no insert that another deferred write's foreign key needs (new users are written at
 * once). An update of a column `mergeable` refuses (PostgreSQL needs each column's type) stays as
 * it was.
 */
export function mergeWrites(
  items: Waiting[],
  mergeable: (table: string, column: string) => boolean = () => true,
): Merged[] {
  const out: Array<Merged | undefined> = []
  const inserts = new Map<string, { at: number; width: number; items: Waiting[] }>()
  const updates = new Map<
    string,
    { key: string; rows: Map<string, Map<string, SqlValue>>; at: number[] }
  >()
  const asItWas = (item: Waiting) => out.push({ kind: 'statement', ...item })
  for (const item of items) {
    const shape = shapeOf(item.sql)
    if (shape?.kind === 'insert') {
      const group = inserts.get(shape.into)
      if (group) group.items.push(item)
      else inserts.set(shape.into, { at: asItWas(item) - 1, width: shape.width, items: [item] })
      continue
    }
    const keyValue = shape?.kind === 'update' ? item.params[shape.columns.length] : undefined
    if (
      shape?.kind !== 'update' ||
      typeof keyValue !== 'string' ||
      !shape.columns.every((column) => mergeable(shape.table, column))
    ) {
      asItWas(item)
      continue
    }
    let table = updates.get(shape.table)
    if (!table) {
      table = { key: shape.key, rows: new Map(), at: [] }
      updates.set(shape.table, table)
    }
    if (table.key !== shape.key) {
      asItWas(item)
      continue
    }
    let row = table.rows.get(keyValue)
    if (!row) {
      row = new Map()
      table.rows.set(keyValue, row)
    }
    for (let index = 0; index < shape.columns.length; index++)
      row.set(shape.columns[index] as string, item.params[index] as SqlValue)
    table.at.push(asItWas(item) - 1)
  }
  for (const [into, group] of inserts) {
    // One insert into the table: as it was.
    if (group.items.length === 1) continue
    const params = group.items.flatMap((item) => item.params)
    out[group.at] = { kind: 'insert', into, width: group.width, params }
  }
  for (const [table, { key, rows, at }] of updates) {
    if (at.length === 1) continue
    for (const index of at) out[index] = undefined
    out[at.at(-1) as number] = { kind: 'update', table, key, rows }
  }
  return out.filter((item): item is Merged => item !== undefined)
}

/** A merged update's rows grouped by the columns they set: one statement per group. */
export function byColumns(
  rows: Map<string, Map<string, SqlValue>>,
): Array<[columns: string[], rows: Array<[key: string, row: Map<string, SqlValue>]>]> {
  const groups = new Map<string, Array<[string, Map<string, SqlValue>]>>()
  for (const [keyValue, row] of rows) {
    // In the order the row's columns were first set (the same for the rows of one kind of write;
    // rows of the same columns in another order only make a statement more).
    let columns = ''
    for (const column of row.keys()) columns = columns === '' ? column : `${columns},${column}`
    let group = groups.get(columns)
    if (!group) {
      group = []
      groups.set(columns, group)
    }
    group.push([keyValue, row])
  }
  return [...groups].map(([columns, group]) => [columns.split(','), group])
}

/** The values of a merged update's row: `columns`' in order, then the row's key. */
function rowUpdateParams(
  columns: readonly string[],
  row: Map<string, SqlValue>,
  key: string,
): SqlValue[] {
  const params: SqlValue[] = []
  for (const column of columns) params.push(row.get(column) as SqlValue)
  params.push(key)
  return params
}

/** A merged update's rows of one set of `columns` (`byColumns`), one statement a row. */
export function rowUpdateStatements(
  item: Extract<Merged, { kind: 'update' }>,
  columns: readonly string[],
  rows: ReadonlyArray<[key: string, row: Map<string, SqlValue>]>,
): Array<[sql: string, params: SqlValue[]]> {
  const sql = rowUpdateText(item.table, item.key, columns)
  return rows.map(([key, row]) => [sql, rowUpdateParams(columns, row, key)])
}

/**
 * Row counts a merged write is split into, largest first: few distinct texts per table to
 * prepare (and keep), few statements per batch.
 */
const CHUNKS = [64, 16, 4, 1]

/** `rows` rows as chunks of `CHUNKS` sizes, largest first: each chunk's size and first row. */
function chunks(rows: number): Array<[size: number, from: number]> {
  const out: Array<[number, number]> = []
  let done = 0
  for (const size of CHUNKS) for (; rows - done >= size; done += size) out.push([size, done])
  return out
}

const insertTexts = new Map<string, Map<number, string>>()
/** The text of an insert of `size` rows (`into`, then `width` values a row), remembered. */
export function insertText(into: string, width: number, size: number): string {
  let texts = insertTexts.get(into)
  if (!texts) {
    texts = new Map()
    // Our inserts are few; keep the map bounded anyway.
    if (insertTexts.size < 100) insertTexts.set(into, texts)
  }
  let text = texts.get(size)
  if (text === undefined) {
    const row = `(${Array(width).fill('?').join(', ')})`
    text = into + Array(size).fill(row).join(', ')
    texts.set(size, text)
  }
  return text
}

/** A merged insert as inserts of `CHUNKS` rows, with bound values. */
export function insertStatements(
  item: Extract<Merged, { kind: 'insert' }>,
): Array<[sql: string, params: SqlValue[]]> {
  return chunks(item.params.length / item.width).map(([size, from]) => [
    insertText(item.into, item.width, size),
    item.params.slice(from * item.width, (from + size) * item.width),
  ])
}

const rowUpdateTexts = new Map<string, string>()
/**
 * `UPDATE table SET` each of `columns` `= ? WHERE key = ?`, the update of one row, remembered:
 * the same string each time, so the lookups keyed by it (prepared statements, merge shapes) hash
 * it once.
 */
export function rowUpdateText(table: string, key: string, columns: readonly string[]): string {
  const id = `${table} ${key} ${columns.join(',')}`
  let text = rowUpdateTexts.get(id)
  if (text === undefined) {
    text = `UPDATE ${table} SET ${columns.map((column) => `${column} = ?`).join(', ')} WHERE ${key} = ?`
    // Our tables and the sets of columns their updates change are few; keep the map bounded.
    if (rowUpdateTexts.size < 1000) rowUpdateTexts.set(id, text)
  }
  return text
}
