import type { ApiKeyIdentity } from '@credly/ledger'

/** What the server's middleware puts on the Hono context. */
export type AppEnv = {
  Variables: {
    /** The caller's key, once `authenticate` accepted it. */
    auth: ApiKeyIdentity | undefined
    /** The matched route's operation, for logs and metrics. */
    operationId: string | undefined
    requestId: string
  }
}
