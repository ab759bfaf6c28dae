import {
  balanceResponseSchema,
  changeUserTierRequestSchema,
  configuredTier,
  createUserRequestSchema,
  defaultTierOf,
  deleteUserResponseSchema,
  grantCreditsRequestSchema,
  grantSchema,
  listUsersQuerySchema,
  userPageSchema,
  userSchema,
} from 'credly/internal'
import type { RouteDeps } from '../app.ts'
import { sendProblem } from '../problems.ts'
import { defineRoute } from '../route.ts'

/** Users, their balances, tiers and top-ups. */
export function registerUserRoutes({ app, registry, ledger }: RouteDeps): void {
  defineRoute(
    app,
    registry,
    {
      method: 'post',
      path: '/v1/users',
      operationId: 'createUser',
      summary: 'Create a user on a tier (the default tier when none is given).',
      scope: 'metering',
      body: createUserRequestSchema,
      response: userSchema,
      status: 201,
    },
    async ({ body, projectId, idempotencyKey, c }) => {
      if (body.tier_id !== undefined && c.get('auth')?.scope !== 'admin') {
        const { config } = await ledger.getProject(projectId)
        const tier = configuredTier(config, body.tier_id)
        // An unknown tier falls through to the ledger's own 400, which names the tiers.
        if (tier && !tier.self_serve && body.tier_id !== defaultTierOf(config)) {
          return sendProblem(
            c,
            'forbidden',
            `A metering key creates users on the default tier ("${defaultTierOf(config)}") or on a tier marked "self_serve": true; "${body.tier_id}" is neither. Put users on it with an admin key (changeUserTier).`,
          )
        }
      }
      return ledger.createUser(projectId, body, { idempotencyKey })
    },
  )
  defineRoute(
    app,
    registry,
    {
      method: 'get',
      path: '/v1/users',
      operationId: 'getUsers',
      summary: 'One page of users in id order.',
      scope: 'metering',
      query: listUsersQuerySchema,
      response: userPageSchema,
    },
    ({ query, projectId }) => ledger.listUsers(projectId, query),
  )
  defineRoute(
    app,
    registry,
    {
      method: 'get',
      path: '/v1/users/:user_id',
      operationId: 'getUser',
      summary: 'A user with balance, held credits, tier and next refill.',
      scope: 'metering',
      response: userSchema,
    },
    ({ params, projectId }) => ledger.getUser(projectId, params.user_id),
  )
  defineRoute(
    app,
    registry,
    {
      method: 'get',
      path: '/v1/users/:user_id/balance',
      operationId: 'getBalance',
      summary: 'The credits a user can spend now and the credits held.',
      scope: 'metering',
      response: balanceResponseSchema,
    },
    ({ params, projectId }) => ledger.getBalance(projectId, params.user_id),
  )
  defineRoute(
    app,
    registry,
    {
      method: 'delete',
      path: '/v1/users/:user_id',
      operationId: 'deleteUser',
      summary: 'Delete a user; pending holds are released, the history stays.',
      scope: 'admin',
      response: deleteUserResponseSchema,
    },
    ({ params, projectId, idempotencyKey }) =>
      ledger.deleteUser(projectId, params.user_id, { idempotencyKey }),
  )
  defineRoute(
    app,
    registry,
    {
      method: 'post',
      path: '/v1/users/:user_id/tier',
      operationId: 'changeUserTier',
      summary: "Move a user to another tier, optionally resetting the tier's credits.",
      scope: 'admin',
      body: changeUserTierRequestSchema.omit({ user_id: true }),
      response: userSchema,
    },
    ({ body, params, projectId, idempotencyKey }) =>
      ledger.changeUserTier(projectId, { ...body, user_id: params.user_id }, { idempotencyKey }),
  )
  defineRoute(
    app,
    registry,
    {
      method: 'post',
      path: '/v1/users/:user_id/grants',
      operationId: 'grantCredits',
      summary: 'Top up a user, optionally expiring.',
      scope: 'admin',
      body: grantCreditsRequestSchema.omit({ user_id: true }),
      response: grantSchema,
      status: 201,
    },
    ({ body, params, projectId, idempotencyKey }) =>
      ledger.grantCredits(projectId, { ...body, user_id: params.user_id }, { idempotencyKey }),
  )
}
