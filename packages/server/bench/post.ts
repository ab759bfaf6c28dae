import { type Agent, request } from 'node:http'

/** One JSON POST over `agent`; status 0 for a connection error. Never rejects. */
export function post(
  agent: Agent,
  url: string,
  headers: Record<string, string>,
  body: unknown,
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
    req.on('error', () => resolve({ status: 0, json: {} }))
    req.end(JSON.stringify(body))
  })
}
