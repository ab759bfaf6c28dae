import { describe, expect, it } from 'vitest'
import { insertInto, mergeInserts, type Waiting } from './merge-inserts.ts'

const journal = 'INSERT INTO journal (project_id, amount)\n  VALUES (?, ?), (?, ?)'
const transactions = 'INSERT INTO transactions (id, status)\n  VALUES (?, ?)'
const write = (template: string, sql: string): Waiting => ({
  sql,
  write: true,
  into: insertInto(template),
})

describe('mergeInserts', () => {
  it('joins the rows of inserts into one table at the place of the first, in order', () => {
    const merged = mergeInserts([
      { sql: 'BEGIN', write: false },
      write(journal, "INSERT INTO journal (project_id, amount)\n  VALUES ('p', '1'), ('p', '2')"),
      write(
        'UPDATE users SET held = ? WHERE ref = ?',
        "UPDATE users SET held = '3' WHERE ref = 'u'",
      ),
      write(transactions, "INSERT INTO transactions (id, status)\n  VALUES ('t1', 'pending')"),
      write(
        journal,
        "INSERT INTO journal (project_id, amount)\n  VALUES ('p', '3'), ('p', 'VALUES (x)')",
      ),
      write(transactions, "INSERT INTO transactions (id, status)\n  VALUES ('t2', 'pending')"),
    ])
    expect(merged.map((item) => item.sql)).toEqual([
      'BEGIN',
      "INSERT INTO journal (project_id, amount)\n  VALUES ('p', '1'), ('p', '2'), ('p', '3'), ('p', 'VALUES (x)')",
      "UPDATE users SET held = '3' WHERE ref = 'u'",
      "INSERT INTO transactions (id, status)\n  VALUES ('t1', 'pending'), ('t2', 'pending')",
    ])
  })

  it('leaves alone an insert with anything after its rows', () => {
    expect(insertInto('INSERT INTO users (ref) VALUES (?) ON CONFLICT DO NOTHING')).toBeUndefined()
    expect(insertInto('INSERT INTO t (a) SELECT ?')).toBeUndefined()
    expect(insertInto(transactions)).toBe('INSERT INTO transactions (id, status)\n  VALUES ')
  })
})
