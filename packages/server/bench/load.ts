/**
 * The load generator of memory-bench.ts, in its own process so it does not share the server's
 * cores' event loop: `count` metered calls (a start, then its complete) over `users` users with
 * `concurrency` in flight, keep-alive connections on 127.0.0.1. Prints one JSON line of status counts.
 */
import { Agent } from 'node:http'
import { post } from './post.ts'

const [url, key, count, concurrency, users] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
]
const agent = new Agent({ keepAlive: true, maxSockets: Number(concurrency) })
const statuses: Record<number, number> = {}

async function call(path: string, body: unknown) {
  const answer = await post(agent, `${url}${path}`, { authorization: `Bearer ${key}` }, body)
  statuses[answer.status] = (statuses[answer.status] ?? 0) + 1
  return answer
}

let next = 0
await Promise.all(
  Array.from({ length: Number(concurrency) }, async () => {
    while (next < Number(count)) {
      const index = next++
      const user_id = `user-${index % Number(users)}`
      const start = await call('/v1/usage/start', {
        user_id,
        model: 'gpt-4o',
        provisional_tokens: { input_tokens: 500, output_tokens: 500 },
      })
      if (typeof start.json.transaction_id !== 'string') continue
      await call('/v1/usage/complete', {
        transaction_id: start.json.transaction_id,
        success: true,
        finalized_tokens: { input_tokens: 400, output_tokens: 300 },
      })
    }
  }),
)
agent.destroy()
process.stdout.write(`${JSON.stringify(statuses)}\n`)
