import { type CredlyClient, createClient } from 'credly'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type RealServer, startRealServer } from './real-server.ts'

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

describe('captureUsage when settling fails (faults only a network can make)', () => {
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
})
