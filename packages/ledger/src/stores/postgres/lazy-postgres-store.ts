import { CredlyError } from 'credly'
import type { Store, StoreStats } from '../store.ts'
import type { PostgresStoreOptions } from './postgres-store.ts'

/** A PostgreSQL schema name Credly accepts: an unquoted identifier. */
export function checkSchemaName(schema: string): string {
  if (!/^[a-z_][a-z0-9_]*$/i.test(schema))
    throw new Error(`Invalid PostgreSQL schema name "${schema}".`)
  return schema
}

/**
 * The PostgreSQL store (see `PostgresStoreOptions`), loaded on first use: `pg` is an optional
 * peer of `@credly/ledger`, so an app on SQLite neither installs nor loads it. A missing `pg`
 * fails the first operation with an error that says to install it.
 */
export function createPostgresStore(options: PostgresStoreOptions): Store {
  checkSchemaName(options.schema ?? 'public')
  let store: Store | undefined
  const loaded = import('./postgres-store.ts').then(
    (module) => {
      store = module.createPostgresStore(options)
      return store
    },
    (cause: unknown) => {
      const missing =
        (cause as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' &&
        /'pg'/.test(String((cause as Error).message))
      throw missing
        ? new CredlyError(
            'A postgres:// database needs the pg package, which is not installed: npm install pg',
            { cause },
          )
        : cause
    },
  )
  // An app that never uses the store must not see an unhandled rejection.
  loaded.catch(() => undefined)
  const none: StoreStats = { writes: 0, commits: 0, retries: 0 }
  return {
    kind: 'postgres',
    write: (work, unit) => loaded.then((opened) => opened.write(work, unit)),
    read: (work) => loaded.then((opened) => opened.read(work)),
    ready: () => loaded.then((opened) => opened.ready()),
    stats: () => store?.stats() ?? { ...none },
    close: () =>
      loaded.then(
        (opened) => opened.close(),
        () => undefined,
      ),
  }
}
