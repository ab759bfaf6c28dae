import {
  ConflictError,
  type CredlyClient,
  createClient,
  ForbiddenError,
  NotFoundError,
  problemSlug,
  UnauthorizedError,
  ValidationError,
} from 'credly'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createTestServer, FaultProxy, type TestServer } from '../src/testing/index.ts'

/** The `credly` client against the real server over HTTP on 127.0.0.1: every method, every error. */
let server: TestServer
let client: CredlyClient
beforeEach(async () => {
  server = await createTestServer()
  client = server.client()
})
afterEach(async () => {
  expect((await server.ledger.verify(server.projectId)).ok).toBe(true)
  await server.close()
})

describe('every client method against @credly/server', () => {
  it('users, balance, grants, tiers and deletion', async () => {
    expect(
      await client.createUser({ user_id: 'ann', metadata: { email: 'ann@example.com' } }),
    ).toMatchObject({
      user_id: 'ann',
      tier_id: 'free',
      balance: 100,
    })
    await client.createUser({ user_id: 'bob', tier_id: 'monthly' })
    expect((await client.getUser('bob')).next_refill_at).not.toBeNull()
    const page = await client.getUsers({ limit: 1 })
    expect(page.data.map((user) => user.user_id)).toEqual(['ann'])
    expect(
      (await client.getUsers({ cursor: page.next_cursor ?? undefined })).data.map(
        (user) => user.user_id,
      ),
    ).toEqual(['bob'])
    const grant = await client.grantCredits({ user_id: 'ann', credits: 2.5, reason: 'promo' })
    expect(grant).toMatchObject({ credits: 2.5, remaining: 2.5, reason: 'promo' })
    expect(await client.getBalance('ann')).toEqual({ user_id: 'ann', balance: 102.5, held: 0 })
    expect(
      await client.changeUserTier({ user_id: 'ann', tier_id: 'monthly', reset_balance: true }),
    ).toMatchObject({
      tier_id: 'monthly',
      balance: 102.5,
    })
    expect(await client.deleteUser('bob')).toEqual({ user_id: 'bob', deleted: true })
    await expect(client.getUser('bob')).rejects.toBeInstanceOf(NotFoundError)
  })

  it('start, extend, complete and the history', async () => {
    await client.createUser({ user_id: 'ann' })
    const start = await client.startUsageTransaction({
      user_id: 'ann',
      model: 'gpt-4o',
      provisional_tokens: { input_tokens: 1_000_000, output_tokens: 1_000_000 },
      feature_identifier: 'chat',
    })
    expect(start).toMatchObject({ continue: true, credits_used: 12.5, balance: 87.5 })
    const id = start.transaction_id as string
    expect(
      (await client.extendUsageTransaction({ transaction_id: id, ttl_seconds: 120 })).status,
    ).toBe('pending')
    const done = await client.completeUsageTransaction({
      transaction_id: id,
      success: true,
      finalized_tokens: {
        input_tokens: 1_000_000,
        cached_input_tokens: 400_000,
        output_tokens: 100_000,
      },
    })
    // 600k * 2.5 + 400k * 1.25 + 100k * 10 = 1.5 + 0.5 + 1
    expect(done).toEqual({
      transaction_id: id,
      credits_used: 3,
      balance: 97,
      balanceAdjustment: 9.5,
    })
    expect(await client.getTransaction(id)).toMatchObject({
      status: 'completed',
      credits_used: 3,
      feature_identifier: 'chat',
    })
    expect(
      (await client.getTransactions({ user_id: 'ann', status: 'completed' })).data.map((t) => t.id),
    ).toEqual([id])
  })

  it('captureUsage creates the user and settles; refuses without running', async () => {
    const success = await client.captureUsage({
      user_id: 'new',
      model: 'unit',
      provisional_tokens: { output_tokens: 50 },
      execute: () => 'ok',
      finalizeTokens: () => ({ output_tokens: 20 }),
    })
    expect(success).toMatchObject({ status: 'executed_success', credits_used: 20, balance: 80 })
    let ran = false
    const refused = await client.captureUsage({
      user_id: 'new',
      model: 'unit',
      provisional_tokens: { output_tokens: 81 },
      execute: () => {
        ran = true
      },
      finalizeTokens: () => ({}),
    })
    expect(refused).toMatchObject({
      status: 'insufficient_credits',
      reason: 'insufficient_credits',
      balance: 80,
    })
    expect(ran).toBe(false)
    const unknown = await client.captureUsage({
      user_id: 'new',
      model: 'nope',
      execute: () => 1,
      finalizeTokens: () => ({}),
    })
    expect(unknown.status).toBe('start_failed')
  })
})

describe('errors from the real server', () => {
  it('maps each problem to its error class', async () => {
    await client.createUser({ user_id: 'ann' })
    const validation = await client
      .startUsageTransaction({ user_id: 'ann', model: 'nope' })
      .catch((error: unknown) => error)
    expect(validation).toBeInstanceOf(ValidationError)
    expect(problemSlug((validation as ValidationError).type)).toBe('unknown-model')
    expect((validation as ValidationError).errors).toEqual([
      { path: 'model', message: 'no price for "nope"' },
    ])

    await expect(client.createUser({ user_id: 'ann' })).rejects.toBeInstanceOf(ConflictError)
    await expect(client.getTransaction('txn_missing')).rejects.toBeInstanceOf(NotFoundError)

    const metering = server.client({ apiKey: server.meteringKey })
    const forbidden = await metering
      .grantCredits({ user_id: 'ann', credits: 5 })
      .catch((error: unknown) => error)
    expect(forbidden).toBeInstanceOf(ForbiddenError)
    expect((forbidden as ForbiddenError).detail).toContain('admin key')

    const stranger = createClient({
      apiKey: 'ck_admin_unknown',
      projectId: server.projectId,
      baseUrl: server.url,
    })
    const unauthorized = await stranger.getUsers().catch((error: unknown) => error)
    expect(unauthorized).toBeInstanceOf(UnauthorizedError)
    expect((unauthorized as UnauthorizedError).requestId).toBeTruthy()
  })
})

describe('retries through a faulty network', () => {
  let proxy: FaultProxy
  beforeEach(async () => {
    proxy = new FaultProxy(server.url)
    client = server.client({ baseUrl: await proxy.listen() })
    await client.createUser({ user_id: 'ann' })
  })
  afterEach(async () => {
    await proxy.close()
  })

  it('a start whose response is lost is retried with the same key and reserves once', async () => {
    proxy.failNext('/v1/usage/start', { kind: 'drop-response' })
    const start = await client.startUsageTransaction({
      user_id: 'ann',
      model: 'unit',
      provisional_tokens: { output_tokens: 10 },
    })
    expect(start.continue).toBe(true)
    const attempts = proxy.received('/v1/usage/start')
    expect(attempts).toHaveLength(2)
    expect(attempts[0]?.headers['idempotency-key']).toBeDefined()
    expect(attempts[1]?.headers['idempotency-key']).toBe(attempts[0]?.headers['idempotency-key'])
    expect(await server.ledger.getBalance(server.projectId, 'ann')).toEqual({
      user_id: 'ann',
      balance: 90,
      held: 10,
    })
  })

  it('a grant whose response is lost is granted once', async () => {
    proxy.failNext('/v1/users/ann/grants', { kind: 'drop-response' })
    await client.grantCredits({ user_id: 'ann', credits: 7 })
    expect((await server.ledger.getBalance(server.projectId, 'ann')).balance).toBe(107)
  })

  it('a complete retried after a gateway error settles once', async () => {
    const start = await client.startUsageTransaction({
      user_id: 'ann',
      model: 'unit',
      provisional_tokens: { output_tokens: 10 },
    })
    proxy.failNext('/v1/usage/complete', {
      kind: 'status',
      status: 502,
      headers: { 'retry-after': '0' },
    })
    const done = await client.completeUsageTransaction({
      transaction_id: start.transaction_id as string,
      success: true,
      finalized_tokens: { output_tokens: 3 },
    })
    expect(done).toMatchObject({ credits_used: 3, balance: 97 })
  })
})
