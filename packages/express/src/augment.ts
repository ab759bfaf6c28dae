import type { RequestCredly } from 'credly'

declare global {
  namespace Express {
    interface Request {
      /** Set by `credly()`: the metered user and Credly's calls bound to them. */
      credly?: RequestCredly
    }
  }
}
