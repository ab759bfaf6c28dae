/**
 * The Credly server over HTTP against a baseline in the same process: a bare Hono echo server on
 * the same adapter (@hono/node-server), answering a JSON POST. Both are driven by 16 concurrent
 * keep-alive clients on 127.0.0.1; results are requests per second and their ratio.
 *
 *   pnpm bench
 */

import { createLedger, createSqliteStore } from '@credly/ledger'
import { testConfig } from '@credly/ledger/testing'
import { serve } from '@hono/node-server'
import { createClient } from 'credly'
import { Hono } from 'hono'
import { createApp, startServer } from '../src/index.ts'

const requests = process.argv.includes('--quick') ? 400 : 4000
const concurrency = 16

async function drive(
  name: string,
  count: number,
  one: () => Promise<unknown>,
): Promise<{ name: string; perSecond: number }> {
  let next = 0
  const started = performance.now()
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        next++
        await one()
      }
    }),
  )
  const perSecond = count / ((performance.now() - started) / 1000)
  process.stderr.write(`  ${name}: ${Math.round(perSecond)} requests/s\n`)
  return { name, perSecond }
}

// Baseline: the same HTTP stack doing nothing but parse and answer JSON.
const echo = new Hono().post('/echo', async (c) => c.json(await c.req.json()))
const echoServer = serve({ fetch: echo.fetch, port: 0, hostname: '127.0.0.1' })
await new Promise((resolve) => echoServer.once('listening', resolve))
const echoUrl = `http://127.0.0.1:${(echoServer.address() as { port: number }).port}/echo`
const body = JSON.stringify({
  user_id: 'bench',
  model: 'unit',
  provisional_tokens: { output_tokens: 10 },
})
const base = await drive('bare Hono echo of a JSON body', requests, async () => {
  const response = await fetch(echoUrl, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json' },
  })
  await response.arrayBuffer()
})
echoServer.close()

// Credly: a start and a complete per metered call, each a request, on an in-memory SQLite ledger.
const store = createSqliteStore({ path: ':memory:' })
const ledger = createLedger({ store })
const project = await ledger.createProject({ config: testConfig })
const key = await ledger.createApiKey(project.id, { scope: 'admin' })
const server = await startServer(createApp({ ledger, rateLimit: false }), { port: 0 })
const client = createClient({ apiKey: key.key, projectId: project.id, baseUrl: server.url })
for (let user = 0; user < concurrency; user++) {
  await client.createUser({ user_id: `u${user}`, tier_id: 'empty' })
  await client.grantCredits({ user_id: `u${user}`, credits: 1_000_000_000 })
}
let counter = 0
const credly = await drive(
  'Credly start + complete over HTTP (2 requests a call)',
  requests / 2,
  async () => {
    const user = `u${counter++ % concurrency}`
    const start = await client.startUsageTransaction({
      user_id: user,
      model: 'unit',
      provisional_tokens: { output_tokens: 10 },
    })
    await client.completeUsageTransaction({
      transaction_id: start.transaction_id as string,
      success: true,
      finalized_tokens: { output_tokens: 7 },
    })
  },
)
// Requests, not calls, against the baseline's requests.
credly.perSecond *= 2
await server.close()
if (!(await ledger.verify(project.id)).ok)
  throw new Error('verify failed after the server benchmark')
await store.close()

console.log('\n### Server over HTTP\n')
console.log('| scenario | requests/s | ratio to baseline |')
console.log('|---|---:|---:|')
for (const result of [base, credly]) {
  console.log(
    `| ${result.name} | ${Math.round(result.perSecond)} | ${(result.perSecond / base.perSecond).toFixed(2)} |`,
  )
}
