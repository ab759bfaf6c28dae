import { createPostgresStore } from './stores/postgres/lazy-postgres-store.ts'
import { createSqliteStore, type SqliteStoreOptions } from './stores/sqlite/sqlite-store.ts'
import type { Store } from './stores/store.ts'

/**
 * Opens the store a database string names: a `postgres://` URL, or a SQLite file path
 * (`:memory:` for a ledger that lives as long as the process).
 */
export function createStore(
  database: string,
  options: { synchronous?: SqliteStoreOptions['synchronous']; schema?: string } = {},
): Store {
  if (/^postgres(ql)?:\/\//i.test(database))
    return createPostgresStore({ url: database, schema: options.schema })
  return createSqliteStore({ path: database, synchronous: options.synchronous })
}
