/**
 * The baseline of server-bench.ts, in its own process: the same HTTP stack as `credly serve`
 * (Hono on @hono/node-server) answering the same two routes with their JSON body echoed and a
 * transaction id, no authentication, no ledger. Prints its URL on stdout.
 */
import { serve } from '@hono/node-server'
import { Hono } from 'hono'

const app = new Hono()
  .post('/v1/usage/start', async (c) =>
    c.json({ continue: true, transaction_id: 'txn_echo', ...(await c.req.json()) }),
  )
  .post('/v1/usage/complete', async (c) => c.json(await c.req.json()))
const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => {
  console.log(`http://127.0.0.1:${info.port}`)
})
process.on('SIGTERM', () => server.close(() => process.exit(0)))
