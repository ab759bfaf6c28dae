import { CredlyError } from 'credly'
import { createSqliteStore, type SqliteStoreOptions } from './stores/sqlite/sqlite-store.ts'
import type { Store } from './stores/store.ts'

/**
 * Opens the store a database string names: a `postgres://` URL, or a SQLite file path
 * (`:memory:` for a ledger that lives as long as the process).
 */
export function createStore(
  database: string,
  options: Omit<SqliteStoreOptions, 'path'> = {},
): Store {
  if (/^postgres(ql)?:\/\//i.test(database)) {
    throw new CredlyError(
      'PostgreSQL databases are not supported by this version of @credly/ledger yet; use a SQLite file path.',
    )
  }
  return createSqliteStore({ ...options, path: database })
}
