import { describe, expect, it } from 'vitest'
import { type Merged, mergeWrites, type Waiting } from './merge-writes.ts'
import { postgresText } from './postgres/round-trip-saver.ts'
import type { SqlValue } from './sql-statements.ts'
import { sqliteStatements } from './sqlite/deferred-writes.ts'

const literal = (value: SqlValue) => (value === null ? 'NULL' : `'${value}'`)
const inline = (template: string, params: SqlValue[]) => {
  let index = 0
  return template.replace(/\?/g, () => literal(params[index++] as SqlValue))
}
const write = (sql: string, ...params: SqlValue[]): Waiting => ({ sql, params })
const types = new Map([
  ['users.available', 'bigint'],
  ['users.held', 'bigint'],
  ['users.next_event_at', 'bigint'],
  ['buckets.remaining', 'bigint'],
])
/** As PostgreSQL's store sends them: one text each, the values inlined. */
const postgres = (merged: Merged[]) =>
  merged.map((item) =>
    item.kind === 'statement' ? inline(item.sql, item.params) : postgresText(item, types, literal),
  )
const journal = 'INSERT INTO journal (project_id, amount)\n  VALUES (?, ?), (?, ?)'
const transactions = 'INSERT INTO transactions (id, status)\n  VALUES (?, ?)'
const userUpdate = 'UPDATE users SET available = ?, held = ? WHERE ref = ?'
const typed = (table: string, column: string) => types.has(`${table}.${column}`)

describe('mergeWrites', () => {
  const inserts = [
    write('BEGIN'),
    write(journal, 'p', 1, 'p', 2),
    write(transactions, 't1', 'pending'),
    write(journal, 'p', 3, 'p', 'VALUES (x)'),
    write(transactions, 't2', 'pending'),
  ]

  it('joins the rows of inserts into one table at the place of the first, in order', () => {
    expect(postgres(mergeWrites(inserts, typed))).toEqual([
      'BEGIN',
      "INSERT INTO journal (project_id, amount)\n  VALUES ('p', '1'), ('p', '2'), ('p', '3'), ('p', 'VALUES (x)')",
      "INSERT INTO transactions (id, status)\n  VALUES ('t1', 'pending'), ('t2', 'pending')",
    ])
  })

  it('folds the updates of a row, and joins a table’s updates per set of columns at the place of the last', () => {
    const merged = mergeWrites(
      [
        write(userUpdate, 10, 1, 'u1'),
        write('INSERT INTO buckets (id, remaining)\n  VALUES (?, ?)', 'b1', 5),
        write(userUpdate, 20, 2, 'u2'),
        write('UPDATE buckets SET remaining = ? WHERE id = ?', 4, 'b1'),
        // u1 again: its later values win.
        write(userUpdate, 9, 0, 'u1'),
        write(
          'UPDATE users SET available = ?, held = ?, next_event_at = ? WHERE ref = ?',
          30,
          3,
          null,
          'u3',
        ),
      ],
      typed,
    )
    expect(postgres(merged)).toEqual([
      "INSERT INTO buckets (id, remaining)\n  VALUES ('b1', '5')",
      "UPDATE buckets SET remaining = '4' WHERE id = 'b1'",
      "UPDATE users SET available = merged.available::bigint, held = merged.held::bigint FROM (VALUES ('u1', '9', '0'), ('u2', '20', '2')) AS merged(merged_key, available, held) WHERE users.ref = merged.merged_key;\n" +
        "UPDATE users SET available = merged.available::bigint, held = merged.held::bigint, next_event_at = merged.next_event_at::bigint FROM (VALUES ('u3', '30', '3', NULL)) AS merged(merged_key, available, held, next_event_at) WHERE users.ref = merged.merged_key",
    ])
    // SQLite: one update a row, its columns in one order whatever order the updates set them in.
    expect(merged.flatMap(sqliteStatements).slice(2)).toEqual([
      ['UPDATE users SET available = ?, held = ? WHERE ref = ?', [9, 0, 'u1']],
      ['UPDATE users SET available = ?, held = ? WHERE ref = ?', [20, 2, 'u2']],
      [
        'UPDATE users SET available = ?, held = ?, next_event_at = ? WHERE ref = ?',
        [30, 3, null, 'u3'],
      ],
    ])
  })

  it('gives SQLite a merged insert as inserts of 64, 16, 4 and 1 rows, few texts to prepare', () => {
    const rows = Array.from({ length: 90 }, (_, index) =>
      write(transactions, `t${index}`, 'pending'),
    )
    const statements = mergeWrites(rows).flatMap(sqliteStatements)
    expect(statements.map(([sql]) => (sql.match(/\(\?, \?\)/g) ?? []).length)).toEqual([
      64, 16, 4, 4, 1, 1,
    ])
    expect(statements.flatMap(([, params]) => params)).toEqual(rows.flatMap((row) => row.params))
  })

  it('leaves alone what it cannot be sure of: other shapes and columns of unknown type', () => {
    const conflict = write('INSERT INTO users (ref) VALUES (?) ON CONFLICT DO NOTHING', 'u')
    expect(mergeWrites([conflict, conflict])).toEqual([
      { kind: 'statement', ...conflict },
      { kind: 'statement', ...conflict },
    ])
    const unknown = 'UPDATE users SET metadata = ? WHERE ref = ?'
    const items = [write(unknown, '{}', 'u1'), write(unknown, '{"a":1}', 'u2')]
    expect(postgres(mergeWrites(items, typed))).toEqual(
      items.map((item) => inline(item.sql, item.params)),
    )
  })
})
