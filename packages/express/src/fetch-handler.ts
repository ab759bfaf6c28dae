import type { Request as ExpressRequest, RequestHandler } from 'express'

/**
 * Mounts a Fetch-style handler (`(request: Request) => Promise<Response>`, such as
 * `stripeWebhook` from `@credly/stripe`) on an Express route. The body reaches it byte for byte,
 * as signature checks need: read from the request, or from `express.raw()` when that ran first.
 * A body parsed as JSON by `express.json()` cannot be checked; mount this route before it.
 *
 * @example
 * ```ts
 * app.post('/webhooks/stripe', fetchHandler(stripeWebhook({ client, stripe, webhookSecret, tiers })))
 * ```
 */
export function fetchHandler(handler: (request: Request) => Promise<Response>): RequestHandler {
  return async (req, res, next) => {
    try {
      const response = await handler(
        new Request(`${req.protocol}://${req.get('host') ?? 'localhost'}${req.originalUrl}`, {
          method: req.method,
          headers: toHeaders(req.headers),
          body:
            req.method === 'GET' || req.method === 'HEAD'
              ? undefined
              : new Uint8Array(await rawBody(req)),
        }),
      )
      res.status(response.status)
      response.headers.forEach((value, name) => {
        res.setHeader(name, value)
      })
      res.end(Buffer.from(await response.arrayBuffer()))
    } catch (error) {
      next(error)
    }
  }
}

async function rawBody(req: ExpressRequest): Promise<Buffer> {
  if (Buffer.isBuffer(req.body)) return req.body
  if (req.body !== undefined && req.readableEnded)
    throw new TypeError(
      'fetchHandler needs the raw request body, but a body parser already consumed it: mount the route before express.json(), or use express.raw() on it.',
    )
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

function toHeaders(incoming: ExpressRequest['headers']): Headers {
  const headers = new Headers()
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined) continue
    for (const one of Array.isArray(value) ? value : [value]) headers.append(name, one)
  }
  return headers
}
