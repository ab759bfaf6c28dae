import { createPostgresStore } from './stores/postgres/lazy-postgres-store.ts'
import type { PostgresStoreOptions } from './stores/postgres/postgres-store.ts'
import { createSqliteStore, type SqliteStoreOptions } from './stores/sqlite/sqlite-store.ts'
import type { Store } from './stores/store.ts'

/**
 * Opens the store a database string names: a `postgres://` URL, or a SQLite file path
 * (`:memory:` for a ledger that lives as long as the process).
 */
export function createStore(
  database: string,
  options: {
    synchronous?: SqliteStoreOptions['synchronous']
  } & Pick<PostgresStoreOptions, 'schema' | 'maxConnections' | 'writeTransactions'> = {},
): Store {
  if (/^postgres(ql)?:\/\//i.test(database)) {
    const { schema, maxConnections, writeTransactions } = options
    return createPostgresStore({ url: database, schema, maxConnections, writeTransactions })
  }
  return createSqliteStore({ path: database, synchronous: options.synchronous })
}
