import {
  listTransactionsQuerySchema,
  transactionPageSchema,
  transactionSchema,
} from 'credly/internal'
import type { RouteDeps } from '../app.ts'
import { defineRoute } from '../route.ts'

/** The transaction history. */
export function registerTransactionRoutes({ app, registry, ledger }: RouteDeps): void {
  defineRoute(
    app,
    registry,
    {
      method: 'get',
      path: '/v1/transactions',
      operationId: 'getTransactions',
      summary:
        'One page of transactions, newest first, filtered by user, status, model, feature or time.',
      scope: 'metering',
      query: listTransactionsQuerySchema,
      response: transactionPageSchema,
    },
    ({ query, projectId }) => ledger.listTransactions(projectId, query),
  )
  defineRoute(
    app,
    registry,
    {
      method: 'get',
      path: '/v1/transactions/:transaction_id',
      operationId: 'getTransaction',
      summary: 'One transaction with its price, tokens, status and timestamps.',
      scope: 'metering',
      response: transactionSchema,
    },
    ({ params, projectId }) => ledger.getTransaction(projectId, params.transaction_id),
  )
}
