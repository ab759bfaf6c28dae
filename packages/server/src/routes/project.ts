import { projectConfigSchema } from 'credly/internal'
import type { RouteDeps } from '../app.ts'
import { defineRoute } from '../route.ts'
import {
  apiKeyListSchema,
  createApiKeyRequestSchema,
  createdApiKeySchema,
  projectSchema,
  revokedApiKeySchema,
  verifyReportSchema,
} from '../schemas.ts'

/** Admin: the project's config (models, tiers, policies), its API keys, and verify(). */
export function registerProjectRoutes({ app, registry, ledger }: RouteDeps): void {
  defineRoute(
    app,
    registry,
    {
      method: 'get',
      path: '/v1/project',
      operationId: 'getProject',
      summary: "The key's project and its config.",
      scope: 'admin',
      response: projectSchema,
    },
    ({ projectId }) => ledger.getProject(projectId),
  )
  defineRoute(
    app,
    registry,
    {
      method: 'put',
      path: '/v1/project/config',
      operationId: 'updateProjectConfig',
      summary: 'Replace the models, tiers and policies; balances are kept.',
      scope: 'admin',
      body: projectConfigSchema,
      response: projectSchema,
    },
    ({ body, projectId }) => ledger.updateProjectConfig(projectId, body),
  )
  defineRoute(
    app,
    registry,
    {
      method: 'get',
      path: '/v1/keys',
      operationId: 'listApiKeys',
      summary: "The project's API keys (never their secrets).",
      scope: 'admin',
      response: apiKeyListSchema,
    },
    async ({ projectId }) => ({ data: await ledger.listApiKeys(projectId) }),
  )
  defineRoute(
    app,
    registry,
    {
      method: 'post',
      path: '/v1/keys',
      operationId: 'createApiKey',
      summary: 'Create an API key. Its secret is in this response only.',
      scope: 'admin',
      body: createApiKeyRequestSchema,
      response: createdApiKeySchema,
      status: 201,
    },
    ({ body, projectId }) => ledger.createApiKey(projectId, body),
  )
  defineRoute(
    app,
    registry,
    {
      method: 'delete',
      path: '/v1/keys/:key_id',
      operationId: 'revokeApiKey',
      summary: 'Revoke an API key; its next request fails.',
      scope: 'admin',
      response: revokedApiKeySchema,
    },
    async ({ params, projectId }) => {
      await ledger.revokeApiKey(projectId, params.key_id)
      return { id: params.key_id, revoked: true }
    },
  )
  defineRoute(
    app,
    registry,
    {
      method: 'get',
      path: '/v1/verify',
      operationId: 'verify',
      summary: 'Recompute every balance from the journal and report differences.',
      scope: 'admin',
      response: verifyReportSchema,
    },
    ({ projectId }) => ledger.verify(projectId),
  )
}
