import type { Context, MiddlewareHandler } from 'hono'
import { bodyLimit as streamingBodyLimit } from 'hono/body-limit'

/**
 * Refuses a request body over `maxBytes` with `onTooLarge`. A body with a `Content-Length` (and no
 * `Transfer-Encoding`) is judged by that header alone, which Node's parser holds the body to;
 * only a chunked body is counted as it streams (Hono's `bodyLimit`). Hono's middleware alone
 * would build a web `Request` and stream for every body just to ask whether there is one, which
 * cost a third of a metered call's time in `credly serve` on a SQLite file.
 */
export function bodyLimit(
  maxBytes: number,
  onTooLarge: (c: Context) => Response | Promise<Response>,
): MiddlewareHandler {
  const streaming = streamingBodyLimit({ maxSize: maxBytes, onError: onTooLarge })
  return async function bodyLimit(c, next) {
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next()
    const length = c.req.header('content-length')
    if (length === undefined || c.req.header('transfer-encoding') !== undefined)
      return streaming(c, next)
    if (Number(length) > maxBytes) return onTooLarge(c)
    return next()
  }
}
