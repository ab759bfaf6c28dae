import type { SqlValue } from '../sql-statements.ts'

/**
 * A statement not sent yet. `write`: a deferred write (the rest is BEGIN); `into`:
 * for a plain `INSERT ... VALUES (...), ...`, its text up to the first row, which rows of other
 * inserts with the same text may join; `update`: for a plain `UPDATE t SET c = ?, ... WHERE k = ?`,
 * what it sets, which may join other updates of the table.
 */
export type Waiting = {
  sql: string
  write: boolean
  into?: string
  update?: { table: string; key: string; keyValue: string; set: Array<[string, SqlValue]> }
}

/** What a deferred write is, from its template and values (see `Waiting`). */
export function describeWrite(template: string, params: SqlValue[]): Omit<Waiting, 'sql'> {
  const shape = shapeOf(template)
  if (shape?.kind === 'insert') return { write: true, into: shape.into }
  if (shape?.kind === 'update') {
    const keyValue = params[shape.columns.length]
    if (typeof keyValue !== 'string') return { write: true }
    return {
      write: true,
      update: {
        table: shape.table,
        key: shape.key,
        keyValue,
        set: shape.columns.map((column, index) => [column, params[index] as SqlValue]),
      },
    }
  }
  return { write: true }
}

type Shape =
  | { kind: 'insert'; into: string }
  | { kind: 'update'; table: string; columns: string[]; key: string }
  | undefined

const shapes = new Map<string, Shape>()
function shapeOf(template: string): Shape {
  if (shapes.has(template)) return shapes.get(template)
  let shape: Shape
  const insert = /^(INSERT INTO \w+ \([\w\s,]+\)\s+VALUES )\((\?, )*\?\)(, \((\?, )*\?\))*$/.exec(
    template,
  )
  const update = /^UPDATE (\w+) SET ((?:\w+ = \?, )*\w+ = \?) WHERE (\w+) = \?$/.exec(template)
  if (insert) shape = { kind: 'insert', into: insert[1] as string }
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
 * Fewer statements for PostgreSQL to parse and plan, the same effect: the inserts into one table
 * (same columns) become one multi-row `INSERT` at the place of the first; the updates of one table
 * become, per set of columns, one `UPDATE ... FROM (VALUES ...)` at the place of the last, the
 * updates of one row first folded into one (later values win). Moving an insert earlier or an
 * update later is safe: no waiting write before an insert concerns the row it inserts, and no
 * waiting write after an update reads what it set (reads are sent after all of them). A table
 * with a column of unknown type (`types`, "table.column" to its SQL type) is left as it is.
 */
export function mergeWrites(
  items: Waiting[],
  types: ReadonlyMap<string, string>,
  literal: (value: SqlValue) => string,
): Waiting[] {
  const out: Array<Waiting | undefined> = []
  const inserts = new Map<string, Waiting>()
  const updates = new Map<
    string,
    { key: string; rows: Map<string, Map<string, SqlValue>>; at: number[]; count: number }
  >()
  for (const item of items) {
    if (item.into !== undefined) {
      const first = inserts.get(item.into)
      if (first) first.sql = `${first.sql}, ${item.sql.slice(item.into.length)}`
      else {
        const copy = { ...item }
        inserts.set(item.into, copy)
        out.push(copy)
      }
      continue
    }
    const update = item.update
    if (
      update === undefined ||
      !update.set.every(([column]) => types.has(`${update.table}.${column}`))
    ) {
      out.push(item)
      continue
    }
    let table = updates.get(update.table)
    if (!table) {
      table = { key: update.key, rows: new Map(), at: [], count: 0 }
      updates.set(update.table, table)
    }
    if (table.key !== update.key) {
      out.push(item)
      continue
    }
    const row = table.rows.get(update.keyValue) ?? new Map<string, SqlValue>()
    for (const [column, value] of update.set) row.set(column, value)
    table.rows.set(update.keyValue, row)
    table.count++
    table.at.push(out.length)
    out.push(item)
  }
  for (const [name, table] of updates) {
    // One update of the table: as it was.
    if (table.count === 1) continue
    for (const index of table.at) out[index] = undefined
    const groups = new Map<string, Array<[string, Map<string, SqlValue>]>>()
    for (const [keyValue, row] of table.rows) {
      const columns = [...row.keys()].sort().join(',')
      groups.set(columns, [...(groups.get(columns) ?? []), [keyValue, row]])
    }
    const statements = [...groups.entries()].map(([joined, rows]) => {
      const columns = joined.split(',')
      const values = rows
        .map(
          ([keyValue, row]) =>
            `(${[literal(keyValue), ...columns.map((column) => literal(row.get(column) as SqlValue))].join(', ')})`,
        )
        .join(', ')
      return `UPDATE ${name} SET ${columns
        .map((column) => `${column} = merged.${column}::${types.get(`${name}.${column}`)}`)
        .join(
          ', ',
        )} FROM (VALUES ${values}) AS merged(merged_key, ${columns.join(', ')}) WHERE ${name}.${table.key} = merged.merged_key`
    })
    out[table.at.at(-1) as number] = { sql: statements.join(';\n'), write: true }
  }
  return out.filter((item): item is Waiting => item !== undefined)
}
