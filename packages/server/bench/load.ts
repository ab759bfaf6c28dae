/**
 * The load generator of memory-bench.ts, in its own process so it does not share the server's
 * cores' event loop: `count` metered calls (a start, then its complete) over `users` users with
 * `concurrency` in flight, keep-alive connections on 127.0.0.1. Prints one JSON line of status counts.
 */
import { Agent, request } from 'node:http'

const [url, key, count, concurrency, users] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
]
const agent = new Agent({ keepAlive: true, maxSockets: Number(concurrency) })
const statuses: Record<number, number> = {}

function post(
  path: string,
  body: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve) => {
    const req = request(
      `${url}${path}`,
      {
        method: 'POST',
        agent,
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      },
      (res) => {
        let text = ''
        res.on('data', (chunk) => {
          text += chunk
        })
        res.on('end', () => {
          statuses[res.statusCode ?? 0] = (statuses[res.statusCode ?? 0] ?? 0) + 1
          resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : {} })
        })
      },
    )
    req.on('error', () => {
      statuses[0] = (statuses[0] ?? 0) + 1
      resolve({ status: 0, json: {} })
    })
    req.end(JSON.stringify(body))
  })
}

let next = 0
await Promise.all(
  Array.from({ length: Number(concurrency) }, async () => {
    while (next < Number(count)) {
      const index = next++
      const user_id = `user-${index % Number(users)}`
      const start = await post('/v1/usage/start', {
        user_id,
        model: 'gpt-4o',
        provisional_tokens: { input_tokens: 500, output_tokens: 500 },
      })
      if (typeof start.json.transaction_id !== 'string') continue
      await post('/v1/usage/complete', {
        transaction_id: start.json.transaction_id,
        success: true,
        finalized_tokens: { input_tokens: 400, output_tokens: 300 },
      })
    }
  }),
)
agent.destroy()
process.stdout.write(`${JSON.stringify(statuses)}\n`)
