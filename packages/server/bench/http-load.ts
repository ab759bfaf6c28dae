/**
 * The load generator of server-bench.ts, in its own process (the server's event loop and the
 * load's never share a core's time slices in one process): autocannon driving metered calls, a
 * start and then its complete on the same connection, over 127.0.0.1 keep-alive connections, as
 * fast as the server answers (a fixed rate is paced-load.ts).
 * Takes one JSON argument (`LoadOptions`); prints one JSON line (`LoadResult`).
 */
import autocannon from 'autocannon'
import { newIdempotencyKey } from 'credly/internal'

export type LoadOptions = {
  url: string
  key: string
  /** Users the calls spread over, in turn. */
  users: readonly string[]
  connections: number
  /** How long to run, in seconds. */
  seconds: number
  /** Sends an `Idempotency-Key` with each start, as the `credly` client does. @default true */
  idempotencyKeys?: boolean
}

export type LoadResult = {
  /** Requests a second (a metered call is two). */
  requestsPerSecond: number
  requests: number
  /** Answers other than 2xx, and connection errors or timeouts. */
  non2xx: number
  errors: number
  latencyMs: { p50: number; p99: number }
  /** The starts alone, from when each was due (paced-load.ts only). */
  startLatencyMs?: { p50: number; p99: number }
}

const options = JSON.parse(process.argv[2] as string) as LoadOptions
let calls = 0
const result = await autocannon({
  url: options.url,
  connections: options.connections,
  duration: options.seconds,
  headers: { authorization: `Bearer ${options.key}`, 'content-type': 'application/json' },
  requests: [
    {
      method: 'POST',
      path: '/v1/usage/start',
      setupRequest: (request) => {
        const user = options.users[calls++ % options.users.length]
        return {
          ...request,
          headers:
            options.idempotencyKeys === false
              ? request.headers
              : { ...request.headers, 'idempotency-key': newIdempotencyKey() },
          body: JSON.stringify({
            user_id: user,
            model: 'gpt-4o',
            provisional_tokens: { input_tokens: 100, output_tokens: 100 },
          }),
        }
      },
      onResponse: (status, body, context: { transaction?: string }) => {
        context.transaction = status === 200 ? JSON.parse(body).transaction_id : undefined
      },
    },
    {
      method: 'POST',
      path: '/v1/usage/complete',
      setupRequest: (request, context: { transaction?: string }) => ({
        ...request,
        body: JSON.stringify({
          transaction_id: context.transaction ?? 'txn_missing',
          success: true,
          finalized_tokens: { input_tokens: 90, output_tokens: 60 },
        }),
      }),
    },
  ],
})
const output: LoadResult = {
  requestsPerSecond: result.requests.total / result.duration,
  requests: result.requests.total,
  non2xx: result.non2xx,
  errors: result.errors + result.timeouts,
  latencyMs: { p50: result.latency.p50, p99: result.latency.p99 },
}
console.log(JSON.stringify(output))
