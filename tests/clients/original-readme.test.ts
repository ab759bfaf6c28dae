import { CredlyApiError, createClient } from 'credly'
import { afterEach, beforeEach, expect, it } from 'vitest'
import { type RealServer, startRealServer } from './real-server.ts'

/**
 * Code written against the original `credly` package's README (v1.0.3), run unchanged against
 * `credly serve`: the only difference is where the client points, CREDLY_BASE_URL (with the key
 * and project id from `credly init` in CREDLY_API_KEY and CREDLY_PROJECT_ID).
 */
const saved = { ...process.env }
let real: RealServer
beforeEach(async () => {
  real = await startRealServer()
  process.env.CREDLY_BASE_URL = real.baseUrl
  process.env.CREDLY_API_KEY = real.apiKey
  process.env.CREDLY_PROJECT_ID = real.projectId
})
afterEach(async () => {
  process.env = { ...saved }
  expect((await real.credly.ledger.verify(real.projectId)).differences).toEqual([])
  await real.close()
})

const callModel = async (prompt: string) => ({
  text: `echo: ${prompt}`,
  usage: { prompt_tokens: 12, completion_tokens: 30 },
})

it('quickstart: start, call, complete', async () => {
  const credly = createClient({
    apiKey: process.env.CREDLY_API_KEY,
    projectId: process.env.CREDLY_PROJECT_ID,
  })
  await credly.createUser({ id: 'user_123' })
  const start = await credly.startUsageTransaction({
    user_id: 'user_123',
    model: 'gpt-4o',
    provisional_tokens: { input_tokens: 100, output_tokens: 500 },
  })
  if (start.continue) {
    const response = await callModel('hello')
    const finish = await credly.completeUsageTransaction({
      transaction_id: start.transaction_id,
      success: true,
      finalized_tokens: {
        input_tokens: response.usage.prompt_tokens,
        output_tokens: response.usage.completion_tokens,
      },
    })
    expect(finish.credits_used).toBe(0.00033)
    expect(finish.balanceAdjustment).toBe(0.00492)
  } else {
    throw new Error(start.message)
  }
})

it('captureUsage: the original union, for every outcome', async () => {
  const credly = createClient()
  const ok = await credly.captureUsage({
    user_id: 'user_123',
    model: 'gpt-4o',
    provisional_tokens: { input_tokens: 100, output_tokens: 500 },
    execute: () => callModel('hi'),
    finalizeTokens: (response) => ({
      input_tokens: response.usage.prompt_tokens,
      output_tokens: response.usage.completion_tokens,
    }),
  })
  expect(ok).toMatchObject({ status: 'executed_success', started: true, continue: true })
  if (ok.status !== 'executed_success') throw new Error(ok.status)
  expect(ok.result.text).toBe('echo: hi')
  expect(ok.start.transaction_id).toBe(ok.finish.transaction_id)
  expect(ok.finish).toMatchObject({ credits_used: 0.00033, balance: 99.99967 })

  const failing = await credly.captureUsage({
    user_id: 'user_123',
    model: 'gpt-4o',
    execute: async () => {
      throw new Error('provider down')
    },
    finalizeTokens: () => ({}),
  })
  expect(failing).toMatchObject({ status: 'executed_error', started: true, continue: true })
  if (failing.status !== 'executed_error') throw new Error(failing.status)
  expect((failing.error as Error).message).toBe('provider down')
  expect(failing.finish?.credits_used).toBe(0)

  const broke = await credly.captureUsage({
    user_id: 'user_123',
    model: 'tiny-model',
    provisional_tokens: { output_tokens: 1000 },
    execute: () => callModel('too big'),
    finalizeTokens: () => ({}),
  })
  expect(broke).toMatchObject({
    status: 'insufficient_credits',
    started: true,
    continue: false,
    start: { continue: false, transaction_id: null, reason: 'insufficient_credits' },
  })

  const bad = await credly.captureUsage({
    user_id: 'user_123',
    model: 'no-such-model',
    execute: () => callModel('never'),
    finalizeTokens: () => ({}),
  })
  expect(bad).toMatchObject({ status: 'start_failed', started: false, continue: false })
  if (bad.status !== 'start_failed') throw new Error(bad.status)
  expect(bad.startError).toBeInstanceOf(CredlyApiError)
})

it('user and tier management with { id }', async () => {
  const credly = createClient()
  const created = await credly.createUser({ id: 'user_456', tier_id: 'pro' })
  expect(created).toMatchObject({ user_id: 'user_456', tier_id: 'pro', balance: 5000 })
  expect(await credly.getUser({ id: 'user_456' })).toMatchObject({ balance: 5000 })
  expect(await credly.changeUserTier({ user_id: 'user_456', tier_id: 'free' })).toMatchObject({
    tier_id: 'free',
  })
  expect((await credly.getUsers()).data.map((user) => user.user_id)).toEqual(['user_456'])
  expect(await credly.deleteUser({ id: 'user_456' })).toEqual({
    user_id: 'user_456',
    deleted: true,
  })
})

it('transaction history with getTransactions and getTransaction({ id })', async () => {
  const credly = createClient()
  await credly.createUser({ id: 'user_789' })
  const start = await credly.startUsageTransaction({ user_id: 'user_789', model: 'gpt-4o' })
  const { data } = await credly.getTransactions({ user_id: 'user_789' })
  expect(data.map((transaction) => transaction.id)).toEqual([start.transaction_id])
  const transaction = await credly.getTransaction({ id: start.transaction_id as string })
  expect(transaction).toMatchObject({ status: 'pending', model: 'gpt-4o' })
})

it('error handling with instanceof CredlyApiError', async () => {
  const credly = createClient()
  try {
    await credly.getUser({ id: 'nobody' })
    throw new Error('expected a 404')
  } catch (err) {
    if (!(err instanceof CredlyApiError)) throw err
    expect(err.status).toBe(404)
    expect(err.detail).toContain('nobody')
  }
})

it('names the accepted forms when the argument has another shape', async () => {
  const credly = createClient()
  const refusal = (call: Promise<unknown>) =>
    call.then(
      () => undefined,
      (caught: unknown) => caught as CredlyApiError,
    )
  const error = await refusal(credly.getUser({ name: 'ann' } as never))
  expect(error).toBeInstanceOf(CredlyApiError)
  expect(error?.detail).toBe(
    "getUser takes a user id: getUser('user_42'), getUser({ id: 'user_42' }) or getUser({ user_id: 'user_42' }).",
  )
  const create = await refusal(credly.createUser({ name: 'ann' } as never))
  expect(create?.detail).toContain('{ user_id, tier_id?, metadata? }, or { id, ... }')
})
