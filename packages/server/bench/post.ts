import { type Agent, request } from 'node:http'

/** One JSON POST over `agent`; status 0 for a connection error. Never rejects. */
export function post(
  agent: Agent,
  url: string,
  headers: Record<string, string>,
  body: unknown,
  retry = true,
): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve) => {
    const req = request(
      url,
      { method: 'POST', agent, headers: { 'content-type': 'application/json', ...headers } },
      (res) => {
        let text = ''
        res.on('data', (chunk) => {
          text += chunk
        })
        res.on('end', () => {
          let json: Record<string, unknown> = {}
          try {
            json = text ? JSON.parse(text) : {}
          } catch {}
          resolve({ status: res.statusCode ?? 0, json })
        })
      },
    )
    req.on('error', (error: NodeJS.ErrnoException) => {
      // A kept-alive connection the server closed just as the request went out on it (the race
      // Node's http documentation describes): an idempotent request (a start with a key, a
      // complete) goes again once, on a new connection, as fetch does.
      const idempotent = 'idempotency-key' in headers || url.endsWith('/v1/usage/complete')
      if (retry && idempotent && req.reusedSocket && error.code === 'ECONNRESET')
        resolve(post(agent, url, headers, body, false))
      else resolve({ status: 0, json: {} })
    })
    req.end(JSON.stringify(body))
  })
}
