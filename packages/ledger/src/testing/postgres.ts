import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { createPostgresStore } from '../stores/postgres/lazy-postgres-store.ts'
import type { StoreFactory } from './harness.ts'

/** The PostgreSQL the tests use: CREDLY_TEST_DATABASE_URL, or the machine's local server. */
export const postgresUrl =
  process.env.CREDLY_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

/**
 * Whether PostgreSQL answers. In CI it must: a missing database fails the run instead of
 * skipping a whole store's tests. On a laptop without one, the caller skips loudly.
 */
export async function postgresAvailable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: postgresUrl, connectionTimeoutMillis: 3000 })
  try {
    await client.connect()
    await client.query('SELECT 1')
    return true
  } catch (error) {
    if (process.env.CI) {
      throw new Error(
        `CI must run the PostgreSQL store tests, but ${postgresUrl} does not answer: ${(error as Error).message}`,
      )
    }
    console.warn(
      `\n${'!'.repeat(78)}\n  SKIPPING the PostgreSQL store tests: ${postgresUrl} does not answer (${(error as Error).message}).\n  Start PostgreSQL or set CREDLY_TEST_DATABASE_URL. CI never skips them.\n${'!'.repeat(78)}\n`,
    )
    return false
  } finally {
    await client.end().catch(() => undefined)
  }
}

/** A fresh schema per store, dropped afterwards, so tests never see each other's rows. */
export const postgresFactory: StoreFactory = async () => {
  const schema = newSchemaName()
  return {
    store: createPostgresStore({ url: postgresUrl, schema, maxConnections: 4 }),
    cleanup: () => dropSchema(schema),
  }
}

export function newSchemaName(): string {
  return `credly_test_${randomBytes(6).toString('hex')}`
}

export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: postgresUrl })
  await client.connect()
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
  } finally {
    await client.end()
  }
}
