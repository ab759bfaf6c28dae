import { describe, expect, it } from 'vitest'
import { type Merged, mergeWrites, type Waiting } from './merge-writes.ts'
import { postgresStatements } from './postgres/round-trip-saver.ts'
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
/** PostgreSQL's store's statements, each with its values inlined to read it. */
const postgres = (merged: Merged[]) =>
  merged.flatMap((item) =>
    postgresStatements(item, types).map(([sql, params]) => inline(sql, params)),
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
      // Two rows: two inserts of one (64, 16, 4 or 1 rows, few texts to prepare).
      "INSERT INTO transactions (id, status)\n  VALUES ('t1', 'pending')",
      "INSERT INTO transactions (id, status)\n  VALUES ('t2', 'pending')",
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
      "UPDATE users SET available = '9', held = '0' WHERE ref = 'u1'",
      "UPDATE users SET available = '20', held = '2' WHERE ref = 'u2'",
      "UPDATE users SET available = '30', held = '3', next_event_at = NULL WHERE ref = 'u3'",
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

  it('gives PostgreSQL an update of more than four rows as one, each value cast', () => {
    const rows = Array.from({ length: 5 }, (_, index) => write(userUpdate, index, 0, `u${index}`))
    const values = rows.map((_, index) => `('u${index}'::text, '${index}'::bigint, '0'::bigint)`)
    expect(postgres(mergeWrites(rows, typed))).toEqual([
      `UPDATE users SET available = merged.available, held = merged.held FROM (VALUES ${values.join(', ')}) AS merged(merged_key, available, held) WHERE users.ref = merged.merged_key`,
    ])
    // Four: one row at a time.
    expect(postgres(mergeWrites(rows.slice(0, 4), typed))).toHaveLength(4)
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
