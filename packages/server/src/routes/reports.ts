import { usageQuerySchema, usageReportSchema } from 'credly/internal'
import type { RouteDeps } from '../app.ts'
import { defineRoute } from '../route.ts'

/** Usage reports: what the ledger's transactions and refusals add up to. */
export function registerReportRoutes({ app, registry, ledger }: RouteDeps): void {
  defineRoute(
    app,
    registry,
    {
      method: 'get',
      path: '/v1/usage',
      operationId: 'getUsage',
      summary:
        'Calls, credits charged and refunded, tokens by kind and refusals over a time range, grouped by day, hour, model, feature, user or tier.',
      scope: 'metering',
      query: usageQuerySchema,
      response: usageReportSchema,
    },
    ({ query, projectId }) => ledger.getUsage(projectId, query),
  )
}
