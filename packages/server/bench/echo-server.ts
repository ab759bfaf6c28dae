/**
 * The baseline of server-bench.ts, in its own process: the same HTTP stack as `credly serve`
 * (Hono on @hono/node-server) answering the same two routes with their JSON body echoed and a
 * transaction id, no authentication, no ledger. Prints its URL on stdout.
 *
 * With `sqlite <file>` or `postgres <url>` it first commits one bare single-row `UPDATE` per
 * request (a durable SQLite file as the ledger's, or autocommitted on PostgreSQL from a pool of
 * 8): the floor of any server that writes before it answers, whose latency is the database's own.
 */
import { DatabaseSync } from 'node:sqlite'
import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import pg from 'pg'

/** One committed single-row update, a row of 64 in turn. */
async function bareUpdate(database: string, where: string | undefined) {
  let next = 0
  const row = () => next++ % 64
  if (where === undefined) throw new Error(`echo-server: ${database} needs a file or URL`)
  if (database === 'sqlite') {
    const db = new DatabaseSync(where)
    db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL')
    db.exec('CREATE TABLE balances (id INTEGER PRIMARY KEY, available INTEGER NOT NULL)')
    const insert = db.prepare('INSERT INTO balances VALUES (?, 1000000000)')
    for (let id = 0; id < 64; id++) insert.run(id)
    const update = db.prepare('UPDATE balances SET available = available - 1 WHERE id = ?')
    return async () => update.run(row())
  }
  if (database !== 'postgres') throw new Error(`echo-server: unknown database ${database}`)
  const pool = new pg.Pool({ connectionString: where, max: 8 })
  await pool.query(
    'CREATE TABLE IF NOT EXISTS echo_balances (id INTEGER PRIMARY KEY, available BIGINT NOT NULL)',
  )
  await pool.query(
    'INSERT INTO echo_balances SELECT id, 1000000000 FROM generate_series(0, 63) AS id ON CONFLICT DO NOTHING',
  )
  return () =>
    pool.query('UPDATE echo_balances SET available = available - 1 WHERE id = $1', [row()])
}

const [database, where] = process.argv.slice(2)
// Without a database, nothing to wait for: not even a resolved promise.
const write = database === undefined ? undefined : await bareUpdate(database, where)
const app = new Hono()
  .post('/v1/usage/start', async (c) => {
    const body = await c.req.json()
    if (write) await write()
    return c.json({ continue: true, transaction_id: 'txn_echo', ...body })
  })
  .post('/v1/usage/complete', async (c) => {
    const body = await c.req.json()
    if (write) await write()
    return c.json(body)
  })
const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => {
  console.log(`http://127.0.0.1:${info.port}`)
})
process.on('SIGTERM', () => server.close(() => process.exit(0)))
