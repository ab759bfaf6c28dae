import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** What the proxy does to the next request for a path, instead of passing it through. */
export type Fault =
  /** Answer this status without asking the server (a gateway error, a scripted problem). */
  | {
      kind: 'status'
      status: number
      headers?: Record<string, string>
      body?: string
      contentType?: string
    }
  /** Hold the request this long before passing it on, so the client times out first. */
  | { kind: 'stall'; ms: number }
  /** Drop the connection without asking the server. */
  | { kind: 'destroy' }
  /** Let the server act on the request, then drop the connection before the answer arrives. */
  | { kind: 'drop-response' }
  /** Let the server answer, then change its JSON body (what a newer server might send). */
  | { kind: 'rewrite'; body: (json: unknown) => unknown }

/** A request as the proxy saw it. */
export type SeenRequest = {
  method: string
  path: string
  headers: Record<string, string | string[] | undefined>
  body: unknown
}

/**
 * An HTTP proxy on 127.0.0.1 in front of a real Credly server, for what networks do to a client:
 * a lost response after the server acted, a gateway error, a stall, a reset. Everything else
 * passes through untouched, and every request is recorded.
 */
export class FaultProxy {
  readonly requests: SeenRequest[] = []
  private readonly faults: Array<{ path: string; fault: Fault }> = []
  private readonly target: string
  private readonly server = createServer((request, response) => {
    void this.handle(request, response).catch(() => request.socket.destroy())
  })

  constructor(target: string) {
    this.target = target
  }

  /** Starts listening; resolves to the URL to give the client as `baseUrl`. */
  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve))
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`
  }

  /** The next `count` requests to `path` meet `fault`. */
  failNext(path: string, fault: Fault, count = 1): void {
    for (let index = 0; index < count; index++) this.faults.push({ path, fault })
  }

  /** The requests seen for `path` (all of them when omitted). */
  received(path?: string): SeenRequest[] {
    return path === undefined
      ? this.requests
      : this.requests.filter((request) => request.path === path)
  }

  async close(): Promise<void> {
    this.server.closeAllConnections()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', this.target)
    const chunks: Buffer[] = []
    for await (const chunk of request) chunks.push(chunk as Buffer)
    const text = Buffer.concat(chunks).toString('utf8')
    this.requests.push({
      method: request.method ?? 'GET',
      path: url.pathname,
      headers: request.headers,
      body: parse(text),
    })

    const index = this.faults.findIndex((entry) => entry.path === url.pathname)
    const fault = index >= 0 ? this.faults.splice(index, 1)[0]?.fault : undefined
    if (fault?.kind === 'destroy') {
      request.socket.destroy()
      return
    }
    if (fault?.kind === 'status') {
      response.writeHead(fault.status, {
        'content-type': fault.contentType ?? 'application/problem+json',
        ...fault.headers,
      })
      response.end(fault.body ?? '')
      return
    }
    if (fault?.kind === 'stall') {
      await new Promise((resolve) => setTimeout(resolve, fault.ms))
      if (request.socket.destroyed) return
    }

    const headers = new Headers()
    for (const [name, value] of Object.entries(request.headers)) {
      if (
        typeof value === 'string' &&
        name !== 'host' &&
        name !== 'connection' &&
        name !== 'content-length'
      ) {
        headers.set(name, value)
      }
    }
    const upstream = await fetch(url, {
      method: request.method,
      headers,
      body: chunks.length > 0 ? text : undefined,
    })
    let answer = Buffer.from(await upstream.arrayBuffer())
    if (fault?.kind === 'rewrite') {
      answer = Buffer.from(JSON.stringify(fault.body(JSON.parse(answer.toString('utf8')))))
    }
    if (fault?.kind === 'drop-response') {
      // The server has acted; the client never hears of it.
      request.socket.destroy()
      return
    }
    const outgoing: Record<string, string> = {}
    upstream.headers.forEach((value, name) => {
      if (name !== 'content-length' && name !== 'transfer-encoding' && name !== 'content-encoding')
        outgoing[name] = value
    })
    response.writeHead(upstream.status, outgoing)
    response.end(answer)
  }
}

function parse(text: string): unknown {
  if (text.length === 0) return undefined
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}
