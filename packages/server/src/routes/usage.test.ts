import { problemType } from 'credly'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type AppHarness, openAppHarness } from '../testing/app-harness.ts'

let h: AppHarness
beforeEach(async () => {
  h = await openAppHarness()
  await h.call('POST', '/v1/users', { body: { user_id: 'ann' } })
})
afterEach(async () => {
  expect((await h.ledger.verify(h.project.id)).ok).toBe(true)
  await h.close()
})

const start = (body: unknown, headers?: Record<string, string>) =>
  h.call('POST', '/v1/usage/start', { key: h.project.meteringKey, body, headers })

describe('POST /v1/usage/start and /complete', () => {
  it('reserves, settles and refunds the difference', async () => {
    const started = await start({
      user_id: 'ann',
      model: 'unit',
      provisional_tokens: { output_tokens: 30 },
    })
    expect(started.status).toBe(200)
    expect(started.body).toMatchObject({
      continue: true,
      credits_used: 30,
      balance: 70,
      reason: null,
    })
    const completed = await h.call('POST', '/v1/usage/complete', {
      key: h.project.meteringKey,
      body: {
        transaction_id: started.body.transaction_id,
        success: true,
        finalized_tokens: { output_tokens: 12 },
      },
    })
    expect(completed.status).toBe(200)
    expect(completed.body).toEqual({
      transaction_id: started.body.transaction_id,
      credits_used: 12,
      balance: 88,
      balanceAdjustment: 18,
    })
  })

  it('answers a refused start with 200 and continue: false (a decision, not an error)', async () => {
    const refused = await start({
      user_id: 'ann',
      model: 'unit',
      provisional_tokens: { input_tokens: 500 },
    })
    expect(refused.status).toBe(200)
    expect(refused.body).toMatchObject({
      continue: false,
      reason: 'insufficient_credits',
      credits_required: 500,
      transaction_id: null,
    })
  })

  it('rejects an invalid body with a 400 problem naming each field, changing nothing', async () => {
    const bad = await start({
      user_id: '',
      model: 'unit',
      provisional_tokens: { input_tokens: -3, output_tokens: 1.5 },
    })
    expect(bad.status).toBe(400)
    expect(bad.headers.get('content-type')).toBe('application/problem+json')
    expect(bad.body.type).toBe(problemType('validation-error'))
    expect(bad.body.errors.map((error: { path: string }) => error.path).sort()).toEqual([
      'provisional_tokens.input_tokens',
      'provisional_tokens.output_tokens',
      'user_id',
    ])
    expect((await h.ledger.getBalance(h.project.id, 'ann')).balance).toBe(100)
  })

  it('refuses an unknown model (400) and an unknown user (404)', async () => {
    const model = await start({ user_id: 'ann', model: 'gpt-17' })
    expect(model).toMatchObject({ status: 400, body: { type: problemType('unknown-model') } })
    expect(model.body.detail).toContain('gpt-17')
    const user = await start({ user_id: 'nobody', model: 'unit' })
    expect(user).toMatchObject({ status: 404, body: { type: problemType('user-not-found') } })
  })

  it('replays a repeated complete and answers 409 for a different body', async () => {
    const started = await start({
      user_id: 'ann',
      model: 'unit',
      provisional_tokens: { output_tokens: 10 },
    })
    const body = {
      transaction_id: started.body.transaction_id,
      success: true,
      finalized_tokens: { output_tokens: 4 },
    }
    const first = await h.call('POST', '/v1/usage/complete', { body })
    const again = await h.call('POST', '/v1/usage/complete', { body })
    expect(again.body).toEqual(first.body)
    const conflict = await h.call('POST', '/v1/usage/complete', {
      body: { ...body, success: false },
    })
    expect(conflict).toMatchObject({
      status: 409,
      body: { type: problemType('transaction-conflict') },
    })
    expect((await h.ledger.getBalance(h.project.id, 'ann')).balance).toBe(96)
  })

  it('makes a start exactly-once by Idempotency-Key, and refuses the key with another body', async () => {
    const body = { user_id: 'ann', model: 'unit', provisional_tokens: { output_tokens: 10 } }
    const first = await start(body, { 'idempotency-key': 'retry-1' })
    const again = await start(body, { 'idempotency-key': 'retry-1' })
    expect(again.body.transaction_id).toBe(first.body.transaction_id)
    expect(await h.ledger.getBalance(h.project.id, 'ann')).toEqual({
      user_id: 'ann',
      balance: 90,
      held: 10,
    })
    const other = await start({ ...body, model: 'gpt-4o' }, { 'idempotency-key': 'retry-1' })
    expect(other).toMatchObject({
      status: 409,
      body: { type: problemType('idempotency-conflict') },
    })
  })

  it('extends a pending reservation', async () => {
    const started = await start({
      user_id: 'ann',
      model: 'unit',
      provisional_tokens: { output_tokens: 10 },
    })
    const extended = await h.call('POST', '/v1/usage/extend', {
      body: { transaction_id: started.body.transaction_id, ttl_seconds: 3600 },
    })
    expect(extended).toMatchObject({
      status: 200,
      body: { status: 'pending', expires_at: '2026-01-31T13:00:00.000Z' },
    })
  })
})
