import pg from 'pg'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { postgresAvailable, postgresUrl } from '../../testing/postgres.ts'
import {
  INDETERMINATE_TYPE,
  NOT_PREPARED,
  type Preparing,
  roundTripSaver,
} from './round-trip-saver.ts'

const available = await postgresAvailable()

describe.runIf(available)('roundTripSaver on the real PostgreSQL', () => {
  // One connection: what one saver prepared, the next one on it finds.
  const pool = new pg.Pool({ connectionString: postgresUrl, max: 1 })
  afterAll(() => pool.end())

  // pg's own queue of queries waiting on a busy client is deprecated (a warning on the console
  // from pg 8.20, once a process; gone in pg 9): no query of the saver's may wait there, in any
  // test (overlapping reads, a ROLLBACK after a failed PREPARE).
  const warnings: string[] = []
  const onWarning = (warning: Error) => warnings.push(warning.message)
  beforeAll(() => process.on('warning', onWarning))
  afterAll(() => process.off('warning', onWarning))
  afterEach(async () => {
    // Warnings are emitted on the next tick.
    await new Promise((resolve) => setImmediate(resolve))
    expect(warnings.filter((message) => /already executing a query/.test(message))).toEqual([])
  })

  /** Runs `work` in a transaction of its own saver on the pool's connection; commits. */
  async function inTransaction<T>(
    work: (saver: ReturnType<typeof roundTripSaver>) => Promise<T>,
    preparing: Preparing = { on: true },
  ): Promise<T> {
    const client = await pool.connect()
    const saver = roundTripSaver(client, new Map(), preparing)
    try {
      await saver.exec('BEGIN')
      const result = await work(saver)
      await saver.exec('COMMIT')
      return result
    } catch (error) {
      await saver.exec('ROLLBACK')
      throw error
    } finally {
      client.release()
    }
  }

  /** `statements` run by the saver's `batch`, in one round trip. */
  const batch = (
    saver: ReturnType<typeof roundTripSaver>,
    statements: Array<[string, Array<string | number | null>]>,
  ) => {
    if (!saver.executor.batch) throw new Error('the saver runs batches')
    return saver.executor.batch(statements)
  }

  /** How many statements the connection has prepared. */
  const prepared = async () => {
    const { rows } = await pool.query('SELECT count(*)::int AS count FROM pg_prepared_statements')
    return rows[0].count as number
  }

  it('prepares a statement once per connection, through a rollback, and answers each run', async () => {
    const sum = 'SELECT ?::int + ?::int AS sum'
    const before = await prepared()
    expect(await inTransaction((saver) => saver.executor.all(sum, [1, 2]))).toEqual([{ sum: 3 }])
    // A transaction rolled back after preparing it: the statement stays prepared, and is used.
    await expect(
      inTransaction(async (saver) => {
        await saver.executor.all(sum, [3, 4])
        throw new Error('undo')
      }),
    ).rejects.toThrow('undo')
    expect(await inTransaction((saver) => saver.executor.all(sum, [5, 6]))).toEqual([{ sum: 11 }])
    expect(await prepared()).toBe(before + 1)
  })

  it('sends a statement PostgreSQL cannot prepare inlined after one retryable failure, and knows what the failed query left prepared', async () => {
    const missing = 'SELECT ? IS NULL AS missing'
    const next = 'SELECT ?::int + 1 AS next'
    const before = await prepared()
    // The PREPARE of `missing` fails first in its query: `next`'s PREPARE never ran.
    const failure = await inTransaction((saver) =>
      batch(saver, [
        [missing, [null]],
        [next, [1]],
      ]),
    ).catch((error: unknown) => error)
    expect(failure).toMatchObject({ code: INDETERMINATE_TYPE })
    expect(await prepared()).toBe(before)
    // Run again: `missing` inlined, `next` prepared now (taken as prepared already, its EXECUTE
    // would fail: prepared statement does not exist).
    expect(
      await inTransaction((saver) =>
        batch(saver, [
          [missing, [null]],
          [next, [41]],
        ]),
      ),
    ).toEqual([[{ missing: true }], [{ next: 42 }]])
    expect(await prepared()).toBe(before + 1)
  })

  it('sends every statement inlined to a database that does not prepare', async () => {
    const before = await prepared()
    const product = 'SELECT ?::int * ?::int AS product'
    for (const factor of [2, 3])
      expect(
        await inTransaction((saver) => saver.executor.all(product, [factor, 7]), { on: false }),
      ).toEqual([{ product: factor * 7 }])
    expect(await prepared()).toBe(before)
  })

  it('stops preparing when a prepared statement is gone, as behind a pooler in transaction mode', async () => {
    const preparing: Preparing = { on: true }
    const difference = 'SELECT ?::int - ?::int AS difference'
    expect(
      await inTransaction((saver) => saver.executor.all(difference, [9, 2]), preparing),
    ).toEqual([{ difference: 7 }])
    // What a pooler does when it gives the next transaction another server connection.
    await pool.query('DEALLOCATE ALL')
    const failure = await inTransaction(
      (saver) => saver.executor.all(difference, [9, 3]),
      preparing,
    ).catch((error: unknown) => error)
    expect(failure).toMatchObject({ code: NOT_PREPARED })
    expect(preparing.on).toBe(false)
    expect(
      await inTransaction((saver) => saver.executor.all(difference, [9, 4]), preparing),
    ).toEqual([{ difference: 5 }])
    expect(await prepared()).toBe(0)
  })

  it('sends in the order of the calls when one needs a PREPARE and the next does not', async () => {
    const level = "SELECT current_setting('transaction_isolation') AS level"
    await inTransaction((saver) => saver.executor.all(level, []))
    const client = await pool.connect()
    try {
      const saver = roundTripSaver(client, new Map())
      await saver.exec('BEGIN ISOLATION LEVEL REPEATABLE READ')
      // The first carries the BEGIN and a PREPARE; the second, prepared already, must not
      // overtake it and run outside the transaction.
      const [, second] = await Promise.all([
        saver.executor.all('SELECT ?::int AS first', [1]),
        saver.executor.all(level, []),
      ])
      await saver.exec('COMMIT')
      expect(second).toEqual([{ level: 'repeatable read' }])
    } finally {
      client.release()
    }
  })
})
