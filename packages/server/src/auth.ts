import type { Ledger } from '@credly/ledger'
import type { MiddlewareHandler } from 'hono'
import type { AppEnv } from './app-env.ts'
import { sendProblem } from './problems.ts'

/**
 * Resolves `Authorization: Bearer <key>` to the key's project and scope on every request, so a
 * revoked key fails on its next request. A request without a key passes on unauthenticated:
 * each route decides whether it needs one. A `Credly-Project` header naming another project
 * than the key's is refused.
 */
export function authenticate(ledger: Ledger): MiddlewareHandler<AppEnv> {
  return async function authenticateRequest(c, next) {
    const header = c.req.header('authorization')
    if (header === undefined) {
      c.set('auth', undefined)
      return next()
    }
    const match = /^Bearer\s+(\S+)$/i.exec(header)
    if (!match) {
      return sendProblem(c, 'unauthorized', 'The Authorization header must be "Bearer <key>".')
    }
    const identity = await ledger.authenticateApiKey(match[1] as string)
    if (!identity) {
      return sendProblem(
        c,
        'unauthorized',
        'This API key is unknown or revoked. `credly keys create` makes a new one.',
      )
    }
    const project = c.req.header('credly-project')
    if (project !== undefined && project !== identity.project_id) {
      return sendProblem(
        c,
        'forbidden',
        `This API key belongs to another project than the Credly-Project header names ("${project}"). Use the project id that \`credly init\` printed with the key.`,
      )
    }
    c.set('auth', identity)
    return next()
  }
}
