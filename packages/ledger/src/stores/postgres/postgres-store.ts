import pg from 'pg'
import { type BatchJob, commitBatch } from '../commit-batch.ts'
import { KeptRows, MAX_KEPT_ROWS, ROWS_CHANGED } from '../kept-rows.ts'
import { createSqlReader, createSqlWriter } from '../sql-statements.ts'
import type {
  Store,
  StoreReader,
  StoreStats,
  StoreWriter,
  UnitUser,
  WriteUnitOptions,
} from '../store.ts'
import { KeepPauses } from './keep-pauses.ts'
import { checkSchemaName } from './lazy-postgres-store.ts'
import { isPreparedStatementFailure, type Preparing, roundTripSaver } from './round-trip-saver.ts'
import { migrations } from './schema.ts'

/** Options of `createPostgresStore`. */
export type PostgresStoreOptions = {
  /** A `postgres://user:password@host:port/database` URL. */
  url: string
  /** The schema that holds Credly's tables, created if missing. @default "public" */
  schema?: string
  /** Connections in this process's pool. @default 10 */
  maxConnections?: number
  /** The most operations committed together in one transaction. @default 64 */
  maxBatch?: number
  /**
   * Write transactions this process runs at once. The fewer, the more operations each carries
   * (writes that arrive meanwhile wait for the next), so the database parses, plans and commits
   * less per operation: on 2 cores, 2 run 1.2x faster than 10 (docs/postgres.md). More help
   * when a database with many cores is far away. At most `maxConnections`. @default 2
   */
  writeTransactions?: number
}

type WriteJob = BatchJob<StoreWriter> & { user: UnitUser | undefined }

/**
 * SQL states worth running a unit again for: serialization failures and deadlocks, a lock
 * not available, a unique violation, which here only ever means another instance won a
 * race for the same idempotency key or row (the retry then finds and replays it), and rows kept
 * from an earlier transaction found changed (the retry reads them). A unit that failed for its
 * prepared statements runs again too (`isPreparedStatementFailure`).
 */
const RETRYABLE = new Set(['40001', '40P01', '55P03', '23505', ROWS_CHANGED])
const MAX_ATTEMPTS = 12

/**
 * The PostgreSQL store: many stateless Credly instances can share one database. Every rule is
 * kept by the database: the user's row is locked (`SELECT ... FOR UPDATE`) before any check,
 * constraints refuse negative holds and unknown states, unique keys make idempotency exact, and
 * a unit that hits a serialization failure or deadlock is retried whole, with backoff. Within a
 * process, the writes waiting when a write transaction ends go together into the next: their
 * users are locked and read in one round trip, their writes sent with the COMMIT (group commit),
 * so a write costs a fraction of a round trip and a hot user does not make 64 clients wait on one
 * lock in turn. A user's writes are in one batch at a time.
 */
export function createPostgresStore(options: PostgresStoreOptions): Store {
  const schema = checkSchemaName(options.schema ?? 'public')
  const maxConnections = options.maxConnections ?? 10
  const pool = new pg.Pool({
    connectionString: options.url,
    max: maxConnections,
    options: `-c search_path=${schema}`,
    // BIGINT arrives as a string by default. Credly's amounts and times stay within 2^53 (the
    // ledger bounds every balance), so each is an exact JavaScript integer; anything else fails
    // loudly rather than being rounded.
    types: {
      getTypeParser: (oid: number, format?: string) =>
        oid === BIGINT_OID ? exactInteger : pg.types.getTypeParser(oid, format as 'text'),
    },
  })
  // An idle client's connection error must not crash the process; the next query reports it.
  pool.on('error', () => undefined)
  const stats: StoreStats = { writes: 0, commits: 0, retries: 0 }
  const maxBatch = options.maxBatch ?? 64
  const maxRunning = Math.max(1, Math.min(options.writeTransactions ?? 2, maxConnections))
  /** Writes waiting, by user (a unit that names none waits alone), in order of arrival. */
  const waiting = new Map<string, WriteJob[]>()
  /** Users with writes in a batch that is running. */
  const busy = new Set<string>()
  let running = 0
  /** Whether a dispatch waits for the next turn of the event loop. */
  let dispatching = false
  let unkeyed = 0
  let closed = false
  let ready: Promise<void> | undefined
  /** Filled once the schema is current; empty, no update is merged. */
  let columnTypes: ReadonlyMap<string, string> = new Map()
  /** Whether statements are prepared (`PREPARE`): known once the schema is current. */
  const preparing: Preparing = { on: false }
  /**
   * The users, buckets, transactions and projects the write transactions read and wrote, with
   * their versions, used by the next transactions without reading them again (see `KeptRows`).
   * Write transactions running at once have different users; a project both use is checked by
   * each.
   */
  const kept = new KeptRows({ versioned: true })
  /** Whether, and whose, rows are kept now: never on an engine without xmin. */
  const pauses = new KeepPauses()
  /** A pooled connection, waiting out a server that is briefly full (too many clients). */
  const connect = async (): Promise<pg.PoolClient> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await pool.connect()
      } catch (error) {
        const code = (error as { code?: string }).code ?? ''
        if (attempt < 8 && (code === '53300' || code === '57P03')) {
          await new Promise((resolve) => setTimeout(resolve, 25 * 2 ** attempt))
          continue
        }
        throw describeConnectionError(error, options.url)
      }
    }
  }
  const whenReady = () => {
    ready ??= migrate(connect, schema)
      .then(async () => {
        columnTypes = await readColumnTypes(connect)
        // Rows with versions to check (`xmin`, `txid_current()`): without them, each write
        // transaction reads its rows.
        if (
          !(await accepts(
            connect,
            'SELECT xmin::text, txid_current() FROM credly_migrations LIMIT 1',
          ))
        )
          pauses.never()
        // SQL's PREPARE and EXECUTE: without them, statements go with their values inlined.
        preparing.on = await accepts(
          connect,
          'PREPARE credly_probe AS SELECT 1; DEALLOCATE credly_probe',
        )
      })
      .catch((error: unknown) => {
        ready = undefined
        throw describeConnectionError(error, options.url)
      })
    return ready
  }

  function runBatch(batch: WriteJob[]): Promise<void> {
    const lockAhead = batch.flatMap((job) => (job.user ? [job.user] : []))
    return commitBatch(
      batch,
      async (attempt) => {
        const now = Date.now()
        const keep = pauses.keeping(now)
        if (!keep || kept.size() > MAX_KEPT_ROWS) kept.forget()
        else {
          const paused = pauses.paused(now)
          if (paused.size > 0) kept.forgetUsers(paused)
        }
        const client = await connect()
        const unit = roundTripSaver(client, columnTypes, preparing)
        const writer = createSqlWriter(unit.executor, {
          lockUserSuffix: ' FOR UPDATE',
          lockAhead: batch.length > 1 ? lockAhead : [],
          kept: keep ? kept : undefined,
          // A key used before is rare (a client's retry): the first attempt does not read keys.
          assumeNewKeys: () => attempt === 1,
        })
        unit.before(writer.checks)
        return {
          writer,
          exec: async (sql) => {
            if (keep && sql === 'COMMIT') writer.committed(await unit.commit())
            else await unit.exec(sql)
          },
          undone: writer.forget,
          mark: unit.mark,
          discard: unit.discard,
          release: () => client.release(),
        }
      },
      {
        begin: 'BEGIN',
        retryable: (error) => {
          const { code, detail } = (error ?? {}) as { code?: string; detail?: string }
          // The check names the users whose rows changed; none named, anything may have. (The
          // rolled-back batch forgets every kept row: `undone`.)
          if (code === ROWS_CHANGED) pauses.changed(detail ? detail.split(',') : [], Date.now())
          return isRetryable(error) || isPreparedStatementFailure(error)
        },
        maxAttempts: MAX_ATTEMPTS,
        backoffMs: (attempt) => Math.random() * Math.min(200, 5 * 2 ** attempt),
        stats,
      },
    )
  }

  /**
   * Starts batches while connections are free: each takes the writes waiting, user after user,
   * up to `maxBatch`, leaving out users whose writes are in a running batch.
   */
  async function dispatch(): Promise<void> {
    try {
      await whenReady()
    } catch (error) {
      for (const jobs of waiting.values()) for (const job of jobs) job.reject(error)
      waiting.clear()
      return
    }
    while (running < maxRunning) {
      const batch: WriteJob[] = []
      const keys: string[] = []
      for (const [key, jobs] of waiting) {
        const alone = jobs[0]?.user === undefined
        if (busy.has(key) || (alone && batch.length > 0)) continue
        batch.push(...jobs.splice(0, maxBatch - batch.length))
        keys.push(key)
        if (jobs.length === 0) waiting.delete(key)
        if (alone || batch.length >= maxBatch) break
      }
      if (batch.length === 0) return
      for (const key of keys) busy.add(key)
      running++
      void runBatch(batch).finally(() => {
        for (const key of keys) busy.delete(key)
        running--
        void dispatch()
      })
    }
  }

  return {
    kind: 'postgres',
    write<T>(work: (tx: StoreWriter) => Promise<T>, unit: WriteUnitOptions = {}): Promise<T> {
      if (closed) return Promise.reject(new Error('The Credly PostgreSQL store is closed.'))
      return new Promise<T>((resolve, reject) => {
        const { user } = unit
        const key = user ? `${user.projectId}\u0000${user.userId}` : `\u0001${unkeyed++}`
        const job: WriteJob = { work, user, resolve: resolve as (value: unknown) => void, reject }
        const jobs = waiting.get(key)
        if (jobs) jobs.push(job)
        else waiting.set(key, [job])
        // Wait one turn of the event loop, as the SQLite store does: the requests read together
        // (a burst) then share the first batch instead of the first one starting alone.
        if (!dispatching) {
          dispatching = true
          setImmediate(() => {
            dispatching = false
            void dispatch()
          })
        }
      })
    },
    async read<T>(work: (tx: StoreReader) => Promise<T>): Promise<T> {
      if (closed) throw new Error('The Credly PostgreSQL store is closed.')
      await whenReady()
      for (let attempt = 1; ; attempt++) {
        const client = await connect()
        // One snapshot for every read of the unit; its BEGIN goes with the first read, and each
        // statement is prepared once per connection, as in a write transaction.
        const unit = roundTripSaver(client, columnTypes, preparing)
        try {
          await unit.exec('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
          const result = await work(createSqlReader(unit.executor))
          await unit.exec('COMMIT')
          return result
        } catch (error) {
          await unit.exec('ROLLBACK').catch(() => undefined)
          if (attempt === 1 && isPreparedStatementFailure(error)) continue
          throw error
        } finally {
          client.release()
        }
      }
    },
    ready: () => whenReady(),
    stats: () => ({ ...stats }),
    async close() {
      if (closed) return
      closed = true
      while (waiting.size > 0 || running > 0) await new Promise((resolve) => setTimeout(resolve, 5))
      await pool.end()
    },
  }
}

/**
 * Applies missing migrations. Each runs in a transaction that first inserts its version: a
 * second instance starting at once blocks on that row, then sees it committed and moves on.
 */
async function migrate(connect: () => Promise<pg.PoolClient>, schema: string): Promise<void> {
  const client = await connect()
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`)
        await client.query(
          'CREATE TABLE IF NOT EXISTS credly_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())',
        )
        break
      } catch (error) {
        // Two instances creating the same schema or table at once: one wins, the other retries.
        // (unique_violation, duplicate_schema, duplicate_table, duplicate_object)
        const code = (error as { code?: string }).code ?? ''
        if (attempt >= 5 || !['23505', '42P06', '42P07', '42710'].includes(code)) throw error
      }
    }
    for (let version = 1; version <= migrations.length; version++) {
      await client.query('BEGIN')
      try {
        const claimed = await client.query(
          'INSERT INTO credly_migrations (version) VALUES ($1) ON CONFLICT DO NOTHING RETURNING version',
          [version],
        )
        if (claimed.rowCount === 1) await client.query(migrations[version - 1] as string)
        await client.query('COMMIT')
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined)
        throw error
      }
    }
  } finally {
    client.release()
  }
}

/**
 * The SQL type of each column of the tables whose updates are merged (see `mergeWrites`), as
 * "table.column", read from the database once its schema is current.
 */
async function readColumnTypes(
  connect: () => Promise<pg.PoolClient>,
): Promise<Map<string, string>> {
  const client = await connect()
  try {
    const { rows } = await client.query(
      `SELECT c.relname AS table_name, a.attname AS column_name,
              format_type(a.atttypid, a.atttypmod) AS type
       FROM pg_attribute a
       JOIN pg_class c ON c.oid = a.attrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = current_schema() AND a.attnum > 0 AND NOT a.attisdropped
         AND c.relname IN ('users', 'buckets', 'transactions')`,
    )
    return new Map(rows.map((row) => [`${row.table_name}.${row.column_name}`, row.type as string]))
  } finally {
    client.release()
  }
}

/**
 * Whether the database runs `sql` (a check of a feature): PostgreSQL does, a PostgreSQL-compatible
 * engine may refuse it.
 */
async function accepts(connect: () => Promise<pg.PoolClient>, sql: string): Promise<boolean> {
  const client = await connect()
  try {
    await client.query(sql)
    return true
  } catch (error) {
    // The engine refused the statement; anything else (a lost connection) is not an answer.
    if (error instanceof pg.DatabaseError) return false
    throw error
  } finally {
    client.release()
  }
}

const BIGINT_OID = 20

/** A BIGINT as a JavaScript number, or an error if it is not exactly one. */
function exactInteger(text: string): number {
  const value = Number(text)
  if (!Number.isSafeInteger(value))
    throw new RangeError(`PostgreSQL returned ${text}, past the exact-integer range of the ledger`)
  return value
}

function isRetryable(error: unknown): boolean {
  return RETRYABLE.has((error as { code?: string } | null)?.code ?? '')
}

function describeConnectionError(error: unknown, url: string): Error {
  const code = (error as { code?: string }).code
  if (
    code &&
    /^[0-9A-Z]{5}$/.test(code) &&
    !code.startsWith('08') &&
    code !== '28P01' &&
    code !== '3D000'
  )
    return error as Error
  const where = url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@')
  return new Error(
    `Cannot use PostgreSQL at ${where}: ${(error as Error).message}. Is the server running and the URL right?`,
    {
      cause: error,
    },
  )
}
