import { VERSION } from 'credly'
import { z } from 'zod'
import type { RouteDeps } from '../app.ts'
import { buildOpenApiDocument } from '../openapi.ts'
import { defineRoute } from '../route.ts'
import { healthSchema } from '../schemas.ts'

/** Health, metrics and the OpenAPI document: no key needed. */
export function registerSystemRoutes({ app, registry, ledger, metrics }: RouteDeps): void {
  let document: Record<string, unknown> | undefined
  defineRoute(
    app,
    registry,
    {
      method: 'get',
      path: '/healthz',
      operationId: 'health',
      summary: 'Whether the server can reach its database.',
      scope: 'public',
      response: healthSchema,
    },
    async () => {
      // A read through the store proves the database answers.
      await ledger.store.read((tx) => tx.getProject(''))
      return { status: 'ok' as const, store: ledger.store.kind, version: VERSION }
    },
  )
  defineRoute(
    app,
    registry,
    {
      method: 'get',
      path: '/metrics',
      operationId: 'metrics',
      summary: 'Prometheus metrics (text format).',
      scope: 'public',
      response: z.string(),
    },
    async ({ c }) =>
      c.text(metrics.render(ledger.store.stats(), ledger.store.kind), 200, {
        'content-type': 'text/plain; version=0.0.4',
      }),
  )
  defineRoute(
    app,
    registry,
    {
      method: 'get',
      path: '/openapi.json',
      operationId: 'openapi',
      summary: 'This document.',
      scope: 'public',
      response: z.record(z.string(), z.unknown()),
    },
    // Built on the first request, when every route is registered; the routes never change after.
    async () => {
      document ??= buildOpenApiDocument(registry)
      return document
    },
  )
}
