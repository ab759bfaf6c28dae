import { parseRetryAfterSeconds } from './errors.ts'

/** The longest server-requested wait we honour before retrying. */
export const MAX_RETRY_AFTER_SECONDS = 60

const INITIAL_DELAY_MS = 500
const MAX_DELAY_MS = 8_000

/**
 * Whether a response status is worth retrying: request timeouts, rate limits and server errors.
 * Any other 4xx says the request itself is wrong, and would fail the same way again.
 */
export function shouldRetryStatus(status: number, headers?: Headers): boolean {
  // A server may say explicitly; honour it like openai-node does.
  const explicit = headers?.get('x-should-retry')
  if (explicit === 'true') return true
  if (explicit === 'false') return false
  return status === 408 || status === 429 || status >= 500
}

/**
 * How long to wait before retry number `attempt` (1 for the first retry): the server's
 * `retry-after-ms` / `Retry-After` when it gives a sane one, otherwise exponential backoff with
 * full jitter (AWS architecture blog, "Exponential Backoff And Jitter").
 */
export function retryDelayMs(
  attempt: number,
  headers?: Headers,
  random: () => number = Math.random,
): number {
  const retryAfter = headers ? parseRetryAfterSeconds(headers) : undefined
  if (retryAfter !== undefined && retryAfter <= MAX_RETRY_AFTER_SECONDS) {
    return Math.ceil(retryAfter * 1000)
  }
  const ceiling = Math.min(MAX_DELAY_MS, INITIAL_DELAY_MS * 2 ** (attempt - 1))
  // Keep at least a quarter of the ceiling so a burst of clients never retries at once.
  return Math.round(ceiling * (0.25 + 0.75 * random()))
}

/** Waits `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason)
      return
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = () => {
      clearTimeout(timer)
      reject(signal?.reason)
    }
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
