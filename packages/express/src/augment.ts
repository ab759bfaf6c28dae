import type { RequestCredly } from 'credly'

declare global {
  namespace Express {
    interface Request {
      /**
       * Set by `credly()`: the metered user and Credly's calls bound to them. Optional, because
       * Express cannot tell a route's types which middleware ran before it: read it with
       * `getCredly(req)`, which returns it typed or throws a clear error when `credly()` is
       * missing.
       */
      credly?: RequestCredly
    }
  }
}
