import { CredlyError, type RequestCredly } from 'credly'
import type { Request } from 'express'

/** `req.credly`, or a clear error when `credly()` is not installed before this route. */
export function getCredly(req: Request): RequestCredly {
  if (!req.credly) {
    throw new CredlyError(
      'req.credly is not set: add app.use(credly()) before this route (or the request had no user and onMissingUser is "pass").',
    )
  }
  return req.credly
}
