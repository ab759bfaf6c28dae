import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'

/** What the proxy does to the next request for a path. */
export type ProxyFault =
  | { kind: 'drop-response' }
  | { kind: 'status'; status: number; headers?: Record<string, string> }

/**
 * An HTTP proxy on 127.0.0.1 in front of a real server, for what the network does to a client:
 * a response lost after the server acted on the request, or a 5xx from a gateway.
 */
export class FaultProxy {
  readonly seen: Array<{ path: string; idempotencyKey: string | undefined }> = []
  private readonly faults: Array<{ path: string; fault: ProxyFault }> = []
  private readonly server = createServer((request, response) => {
    void this.forward(request).then(
      async ({ path, upstream }) => {
        const index = this.faults.findIndex((entry) => entry.path === path)
        const fault = index >= 0 ? this.faults.splice(index, 1)[0]?.fault : undefined
        if (fault?.kind === 'drop-response') {
          // The server has acted; the client never hears of it.
          await upstream?.arrayBuffer()
          request.socket.destroy()
          return
        }
        if (fault?.kind === 'status') {
          response.writeHead(fault.status, {
            'content-type': 'application/problem+json',
            ...fault.headers,
          })
          response.end(JSON.stringify({ title: 'Bad Gateway', status: fault.status }))
          return
        }
        if (!upstream) return
        response.writeHead(upstream.status, Object.fromEntries(upstream.headers))
        response.end(Buffer.from(await upstream.arrayBuffer()))
      },
      () => request.socket.destroy(),
    )
  })

  private readonly target: string

  constructor(target: string) {
    this.target = target
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve))
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`
  }

  /** The next request to `path` meets `fault`. A `status` fault is answered without forwarding. */
  inject(path: string, fault: ProxyFault): void {
    this.faults.push({ path, fault })
  }

  async close(): Promise<void> {
    this.server.closeAllConnections()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  private async forward(
    request: IncomingMessage,
  ): Promise<{ path: string; upstream: Response | undefined }> {
    const url = new URL(request.url ?? '/', this.target)
    const key = request.headers['idempotency-key']
    this.seen.push({
      path: url.pathname,
      idempotencyKey: typeof key === 'string' ? key : undefined,
    })
    const pending = this.faults.find((entry) => entry.path === url.pathname)
    if (pending?.fault.kind === 'status') return { path: url.pathname, upstream: undefined }
    const chunks: Buffer[] = []
    for await (const chunk of request) chunks.push(chunk as Buffer)
    const headers = new Headers()
    for (const [name, value] of Object.entries(request.headers)) {
      if (typeof value === 'string' && name !== 'host' && name !== 'connection')
        headers.set(name, value)
    }
    const upstream = await fetch(url, {
      method: request.method,
      headers,
      body: chunks.length > 0 ? Buffer.concat(chunks) : undefined,
    })
    return { path: url.pathname, upstream }
  }
}
