export { type Clock, systemClock } from './clock.ts'
export {
  type ApiKeyIdentity,
  type ApiKeyInfo,
  type ApiKeyScope,
  type CreatedApiKey,
  hashApiKey,
} from './engine/api-keys.ts'
export { CATALOG_PACKAGE } from './engine/catalog.ts'
export {
  createLedger,
  type Ledger,
  type LedgerOptions,
  type Project,
  type WriteOptions,
} from './engine/ledger.ts'
export { freezeModelPrices, listModelPrices, type PricedModel } from './engine/price-list.ts'
export { priceTokens } from './engine/pricing.ts'
export type { VerifyDifference, VerifyReport } from './engine/verify.ts'
export { createLocalClient, type LocalClient, type LocalClientOptions } from './local-client.ts'
export { MICRO_PER_CREDIT, toCredits, toMicro } from './money.ts'
export { createStore } from './open-store.ts'
export { createPostgresStore } from './stores/postgres/lazy-postgres-store.ts'
export type { PostgresStoreOptions } from './stores/postgres/postgres-store.ts'
export { createSqliteStore, type SqliteStoreOptions } from './stores/sqlite/sqlite-store.ts'
export type {
  Account,
  ApiKeyRow,
  BucketRow,
  HoldPart,
  IdempotencyRow,
  JournalEntry,
  JournalEntryInput,
  JournalKind,
  ProjectRow,
  Store,
  StoreReader,
  StoreStats,
  StoreWriter,
  TransactionListQuery,
  TransactionRow,
  UnitUser,
  UserListQuery,
  UserRow,
  WriteUnitOptions,
} from './stores/store.ts'
