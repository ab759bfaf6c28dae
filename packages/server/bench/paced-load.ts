/**
 * The fixed-rate load of server-bench.ts, in its own process: metered calls whose starts are sent
 * evenly spaced in time (a start every `2000 / rate` ms, its complete as soon as it is answered,
 * so `rate` requests a second in all), over keep-alive connections on 127.0.0.1. Starts go out on
 * time whatever the answers do (an open loop: no coordinated omission), and a start's latency
 * counts from when it went to the connection pool, so a start that waits there for a free
 * connection counts the wait: a server that falls behind shows its queue. Not counted: the pacing
 * timer's own lateness (Node's timers fire up to a millisecond late, half a millisecond at the
 * median here), the load's delay, not the server's. The first second warms the connections up
 * and is not counted.
 *
 * autocannon is not used here: its rate limit sends each connection's quota for a second at once
 * when the second begins (a burst of the whole rate on all connections, then silence), and its
 * correction for coordinated omission assumes a 1 ms interval at such rates, recording a 20 ms
 * answer as twenty answers of 20, 19, ... 1 ms. Both measured the burst, not the rate.
 * Takes one JSON argument (`PacedLoadOptions`); prints one JSON line (`LoadResult`).
 */
import { Agent } from 'node:http'
import { newIdempotencyKey } from 'credly/internal'
import type { LoadOptions, LoadResult } from './http-load.ts'
import { post } from './post.ts'

export type PacedLoadOptions = LoadOptions & {
  /** Requests a second, starts and completes together. */
  rate: number
}

const options = JSON.parse(process.argv[2] as string) as PacedLoadOptions
const agent = new Agent({ keepAlive: true, maxSockets: options.connections })
const headers = { authorization: `Bearer ${options.key}` }
const warmup = Math.round(options.rate / 2)
const calls = warmup + Math.round((options.seconds * options.rate) / 2)
const spacingMs = 2000 / options.rate
const startLatencies: number[] = []
const latencies: number[] = []
let non2xx = 0
let errors = 0

function count(status: number, latency: number): void {
  latencies.push(latency)
  if (status === 0) errors++
  else if (status < 200 || status > 299) non2xx++
}

async function call(index: number): Promise<void> {
  const user_id = options.users[index % options.users.length]
  const sentStart = performance.now()
  const start = await post(
    agent,
    `${options.url}/v1/usage/start`,
    options.idempotencyKeys === false
      ? headers
      : { ...headers, 'idempotency-key': newIdempotencyKey() },
    { user_id, model: 'gpt-4o', provisional_tokens: { input_tokens: 100, output_tokens: 100 } },
  )
  const startLatency = performance.now() - sentStart
  const sent = performance.now()
  const complete = await post(agent, `${options.url}/v1/usage/complete`, headers, {
    transaction_id: start.json.transaction_id ?? 'txn_missing',
    success: true,
    finalized_tokens: { input_tokens: 90, output_tokens: 60 },
  })
  const completeLatency = performance.now() - sent
  if (index < warmup) return
  startLatencies.push(startLatency)
  count(start.status, startLatency)
  count(complete.status, completeLatency)
}

const running: Array<Promise<void>> = []
const began = performance.now() + 20
const measuredFrom = began + warmup * spacingMs
for (let index = 0; index < calls; ) {
  const wait = began + index * spacingMs - performance.now()
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
  // Every start due by now goes out now: a late timer does not lower the rate.
  for (const now = performance.now(); index < calls && began + index * spacingMs <= now; index++)
    running.push(call(index))
}
await Promise.all(running)
const seconds = (performance.now() - measuredFrom) / 1000
agent.destroy()

const percentile = (sorted: ArrayLike<number>, p: number) =>
  Math.round((sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0) * 100) / 100
const all = Float64Array.from(latencies).sort()
const starts = Float64Array.from(startLatencies).sort()
const output: LoadResult = {
  requestsPerSecond: latencies.length / seconds,
  requests: latencies.length,
  non2xx,
  errors,
  latencyMs: { p50: percentile(all, 0.5), p99: percentile(all, 0.99) },
  startLatencyMs: { p50: percentile(starts, 0.5), p99: percentile(starts, 0.99) },
}
console.log(JSON.stringify(output))
