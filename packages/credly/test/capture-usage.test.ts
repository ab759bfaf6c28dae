import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  type CredlyClient,
  createClient,
  InsufficientCreditsError,
  ValidationError,
} from '../src/index.ts'
import { type RealServer, startRealServer } from './support/real-server.ts'

// The real server behind a fault proxy (`server`), which scripts failed completions.
let real: RealServer
let server: RealServer['proxy']
let client: CredlyClient

beforeEach(async () => {
  real = await startRealServer()
  server = real.proxy
  client = createClient({
    apiKey: real.apiKey,
    projectId: real.projectId,
    baseUrl: real.baseUrl,
    maxRetries: 0,
  })
})

afterEach(async () => {
  expect((await real.credly.ledger.verify(real.projectId)).differences).toEqual([])
  await real.close()
})

// gpt-4o costs 10 credits per million output tokens.
const oneCreditOfOutput = { output_tokens: 100_000 }

describe('captureUsage', () => {
  it('executed_success: creates the user, runs the call and settles what it used', async () => {
    let ran = 0
    const outcome = await client.captureUsage({
      user_id: 'new-user',
      model: 'gpt-4o',
      provisional_tokens: { output_tokens: 500_000 },
      feature_identifier: 'chat',
      execute: async () => {
        ran++
        return { text: 'hello', usage: oneCreditOfOutput }
      },
      finalizeTokens: (result) => result.usage,
    })
    expect(ran).toBe(1)
    expect(outcome).toMatchObject({
      status: 'executed_success',
      result: { text: 'hello' },
      credits_used: 1,
      balance: 99,
      balanceAdjustment: 4,
    })
    expect(await client.getBalance('new-user')).toEqual({
      user_id: 'new-user',
      balance: 99,
      held: 0,
    })
    if (outcome.status !== 'executed_success') throw new Error('unreachable')
    const transaction = await client.getTransaction(outcome.transaction_id)
    expect(transaction).toMatchObject({
      status: 'completed',
      feature_identifier: 'chat',
      credits_used: 1,
    })
  })

  it('insufficient_credits: refuses without running the call', async () => {
    await client.createUser({ user_id: 'poor' })
    let ran = false
    const outcome = await client.captureUsage({
      user_id: 'poor',
      model: 'tiny-model',
      provisional_tokens: { input_tokens: 1_000 },
      execute: () => {
        ran = true
      },
      finalizeTokens: () => ({}),
    })
    expect(ran).toBe(false)
    expect(outcome).toMatchObject({
      status: 'insufficient_credits',
      continue: false,
      transaction_id: null,
      reason: 'insufficient_credits',
      balance: 100,
    })
  })

  it('executed_error: completes as failed (refunding the hold) and returns the error', async () => {
    const failure = new Error('provider down')
    const outcome = await client.captureUsage({
      user_id: 'u-error',
      model: 'gpt-4o',
      provisional_tokens: oneCreditOfOutput,
      execute: async () => {
        throw failure
      },
      finalizeTokens: () => oneCreditOfOutput,
    })
    expect(outcome).toMatchObject({
      status: 'executed_error',
      error: failure,
      credits_used: 0,
      balance: 100,
    })
    if (outcome.status !== 'executed_error') throw new Error('unreachable')
    expect((await client.getTransaction(outcome.transaction_id)).status).toBe('failed')
  })

  it('executed_error: charges the tokens errorTokens reports for a failed call', async () => {
    const outcome = await client.captureUsage({
      user_id: 'u-partial',
      model: 'gpt-4o',
      provisional_tokens: { output_tokens: 200_000 },
      execute: async () => {
        throw new Error('stream broke half way')
      },
      finalizeTokens: () => ({}),
      errorTokens: () => oneCreditOfOutput,
    })
    expect(outcome).toMatchObject({
      status: 'executed_error',
      credits_used: 1,
      balance: 99,
      balanceAdjustment: 1,
    })
  })

  it('rethrowOnError: completes as failed, then throws the original error', async () => {
    const failure = new Error('boom')
    await expect(
      client.captureUsage({
        user_id: 'u-rethrow',
        model: 'gpt-4o',
        provisional_tokens: oneCreditOfOutput,
        execute: () => Promise.reject(failure),
        finalizeTokens: () => ({}),
        rethrowOnError: true,
      }),
    ).rejects.toBe(failure)
    const [transaction] = (await client.getTransactions({ user_id: 'u-rethrow' })).data
    expect(transaction?.status).toBe('failed')
    expect(await client.getBalance('u-rethrow')).toEqual({
      user_id: 'u-rethrow',
      balance: 100,
      held: 0,
    })
  })

  it('execution_error_completion_failed: the call threw and the completion failed too', async () => {
    server.failNext('/v1/usage/complete', { kind: 'status', status: 503 })
    const failure = new Error('provider down')
    const outcome = await client.captureUsage({
      user_id: 'u-double',
      model: 'gpt-4o',
      provisional_tokens: oneCreditOfOutput,
      execute: () => Promise.reject(failure),
      finalizeTokens: () => ({}),
    })
    expect(outcome.status).toBe('execution_error_completion_failed')
    if (outcome.status !== 'execution_error_completion_failed') throw new Error('unreachable')
    expect(outcome.error).toBe(failure)
    expect((outcome.completion_error as Error).name).toBe('ServerError')
    // The hold stays until the reservation expires; nothing was silently dropped.
    expect((await client.getTransaction(outcome.transaction_id)).status).toBe('pending')
  })

  it('start_failed: an invalid start never runs the call', async () => {
    let ran = false
    const outcome = await client.captureUsage({
      user_id: 'u-bad',
      model: 'gpt-4o',
      provisional_tokens: { input_tokens: -5 },
      execute: () => {
        ran = true
      },
      finalizeTokens: () => ({}),
    })
    expect(ran).toBe(false)
    expect(outcome.status).toBe('start_failed')
    if (outcome.status !== 'start_failed') throw new Error('unreachable')
    expect(outcome.error).toBeInstanceOf(ValidationError)
  })

  it('start_failed: an unknown model is refused, not priced at zero', async () => {
    const outcome = await client.captureUsage({
      user_id: 'u-model',
      model: 'no-such-model',
      execute: () => 'never',
      finalizeTokens: () => ({}),
    })
    expect(outcome.status).toBe('start_failed')
    if (outcome.status !== 'start_failed') throw new Error('unreachable')
    expect((outcome.error as ValidationError).detail).toContain('no-such-model')
  })

  it('executed_success with completion_error keeps the result when settling fails', async () => {
    server.failNext('/v1/usage/complete', { kind: 'status', status: 500 })
    const outcome = await client.captureUsage({
      user_id: 'u-settle',
      model: 'gpt-4o',
      provisional_tokens: oneCreditOfOutput,
      execute: () => 'answer',
      finalizeTokens: () => oneCreditOfOutput,
    })
    expect(outcome).toMatchObject({ status: 'executed_success', result: 'answer', credits_used: 1 })
    if (outcome.status !== 'executed_success') throw new Error('unreachable')
    expect(outcome.completion_error).toBeDefined()
  })

  it('does not confuse an InsufficientCreditsError thrown by execute with a refused start', async () => {
    const outcome = await client.captureUsage({
      user_id: 'u-nested',
      model: 'gpt-4o',
      execute: () => Promise.reject(new InsufficientCreditsError({ balance: 0, required: 1 })),
      finalizeTokens: () => ({}),
    })
    expect(outcome.status).toBe('executed_error')
  })
})
