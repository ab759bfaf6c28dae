/**
 * Requests a streamed response, reads at least `afterBytes` of it, then aborts the request the
 * way a browser tab that closes does. Resolves with the bytes read.
 */
export async function abortStreamAfter(
  url: string,
  init: RequestInit,
  afterBytes: number,
): Promise<number> {
  const aborted = new AbortController()
  const response = await fetch(url, { ...init, signal: aborted.signal })
  const reader = (response.body as ReadableStream<Uint8Array>).getReader()
  let received = 0
  while (received < afterBytes) {
    const { value, done } = await reader.read()
    if (done) break
    received += value.length
  }
  aborted.abort()
  return received
}

/** Polls `check` every 20 ms until it is true or `timeoutMs` passes; resolves to its last answer. */
export async function waitUntil(
  check: () => Promise<boolean> | boolean,
  timeoutMs = 3000,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await check()) return true
    if (Date.now() > deadline) return false
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
