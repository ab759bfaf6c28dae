import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { createPostgresStore, createSqliteStore } from '../src/index.ts'
import {
  dropSchema,
  newSchemaName,
  postgresAvailable,
  postgresUrl,
} from '../src/testing/postgres.ts'

/**
 * The two stores keep the same schema: the same tables, the same columns, the same indexes (by
 * name). A column added to one store's migrations and not the other's fails here, not in
 * production. (Types are each dialect's own: INTEGER and TEXT on SQLite, BIGINT, JSONB and
 * BOOLEAN on PostgreSQL.)
 */
type Shape = Record<string, { columns: string[]; indexes: string[] }>

function readSqlite(db: DatabaseSync): Shape {
  const shape: Shape = {}
  const tables = db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    .all() as Array<{ name: string }>
  for (const { name } of tables) {
    const columns = (db.prepare(`PRAGMA table_info(${name})`).all() as Array<{ name: string }>)
      .map((column) => column.name)
      .sort()
    const indexes = (
      db
        .prepare(
          "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
        )
        .all(name) as Array<{ name: string }>
    )
      .map((index) => index.name)
      .sort()
    shape[name] = { columns, indexes }
  }
  return shape
}

const schema = newSchemaName()
afterAll(() => dropSchema(schema))

describe.runIf(await postgresAvailable())('the SQLite and PostgreSQL schemas', () => {
  it('have the same tables, columns and indexes', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'credly-schema-'))
    const path = join(folder, 'schema.db')
    await createSqliteStore({ path }).close()
    const db = new DatabaseSync(path)
    const sqlite = readSqlite(db)
    db.close()
    rmSync(folder, { recursive: true, force: true })

    const store = createPostgresStore({ url: postgresUrl, schema })
    await store.ready()
    await store.close()
    const client = new pg.Client({ connectionString: postgresUrl })
    await client.connect()
    const postgres: Shape = {}
    try {
      const columns = await client.query(
        'SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = $1',
        [schema],
      )
      for (const row of columns.rows as Array<{ table_name: string; column_name: string }>) {
        if (row.table_name === 'credly_migrations') continue
        postgres[row.table_name] ??= { columns: [], indexes: [] }
        postgres[row.table_name]?.columns.push(row.column_name)
      }
      const indexes = await client.query(
        "SELECT tablename, indexname FROM pg_indexes WHERE schemaname = $1 AND indexname NOT LIKE '%_pkey' AND indexname NOT LIKE '%_key'",
        [schema],
      )
      for (const row of indexes.rows as Array<{ tablename: string; indexname: string }>) {
        postgres[row.tablename]?.indexes.push(row.indexname)
      }
    } finally {
      await client.end()
    }
    for (const table of Object.values(postgres)) {
      table.columns.sort()
      table.indexes.sort()
    }
    expect(Object.keys(postgres).sort()).toEqual(Object.keys(sqlite).sort())
    for (const name of Object.keys(sqlite)) {
      expect(postgres[name], name).toEqual(sqlite[name])
    }
  })
})
