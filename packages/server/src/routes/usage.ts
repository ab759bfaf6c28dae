import {
  completeUsageRequestSchema,
  completeUsageResponseSchema,
  extendUsageRequestSchema,
  startUsageRequestSchema,
  startUsageResponseSchema,
  transactionSchema,
} from 'credly/internal'
import type { RouteDeps } from '../app.ts'
import { defineRoute } from '../route.ts'

/** Two-phase usage: start (reserve), complete (settle), extend (keep a hold alive). */
export function registerUsageRoutes({ app, registry, ledger }: RouteDeps): void {
  defineRoute(
    app,
    registry,
    {
      method: 'post',
      path: '/v1/usage/start',
      operationId: 'startUsageTransaction',
      summary: 'Reserve credits for a model call; make the call only when `continue` is true.',
      scope: 'metering',
      body: startUsageRequestSchema,
      response: startUsageResponseSchema,
    },
    ({ body, projectId, idempotencyKey }) => ledger.startUsage(projectId, body, { idempotencyKey }),
  )
  defineRoute(
    app,
    registry,
    {
      method: 'post',
      path: '/v1/usage/complete',
      operationId: 'completeUsageTransaction',
      summary: 'Settle a reservation with the tokens the call used. Exactly once per transaction.',
      scope: 'metering',
      body: completeUsageRequestSchema,
      response: completeUsageResponseSchema,
    },
    ({ body, projectId, idempotencyKey }) =>
      ledger.completeUsage(projectId, body, { idempotencyKey }),
  )
  defineRoute(
    app,
    registry,
    {
      method: 'post',
      path: '/v1/usage/extend',
      operationId: 'extendUsageTransaction',
      summary: 'Push back the expiry of a pending reservation, e.g. while a stream runs.',
      scope: 'metering',
      body: extendUsageRequestSchema,
      response: transactionSchema,
    },
    ({ body, projectId, idempotencyKey }) =>
      ledger.extendUsage(projectId, body, { idempotencyKey }),
  )
}
