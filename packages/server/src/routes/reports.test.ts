import { problemType } from 'credly'
import { afterEach, beforeEach, expect, it } from 'vitest'
import { type AppHarness, openAppHarness } from '../testing/app-harness.ts'
import { createTestServer } from '../testing/index.ts'

let h: AppHarness
beforeEach(async () => {
  h = await openAppHarness()
  await h.call('POST', '/v1/users', { body: { user_id: 'ann' } })
  for (const [model, tokens] of [
    ['unit', 7],
    ['unit', 3],
    ['gpt-4o', 1_000_000],
  ] as const) {
    const start = await h.call('POST', '/v1/usage/start', { body: { user_id: 'ann', model } })
    await h.call('POST', '/v1/usage/complete', {
      body: {
        transaction_id: start.body.transaction_id,
        success: true,
        finalized_tokens: { input_tokens: tokens },
      },
    })
  }
  // Refused: ann has 100 - 10 - 2.5 = 87.5 credits left.
  await h.call('POST', '/v1/usage/start', {
    body: { user_id: 'ann', model: 'unit', provisional_tokens: { output_tokens: 90 } },
  })
})
afterEach(async () => {
  expect((await h.ledger.verify(h.project.id)).ok).toBe(true)
  await h.close()
})

it('GET /v1/usage groups a range by model for a metering key', async () => {
  const response = await h.call('GET', '/v1/usage?group_by=model', { key: h.project.meteringKey })
  expect(response.status).toBe(200)
  expect(response.body.group_by).toEqual(['model'])
  expect(
    response.body.data.map((group: { model: string; calls: number; credits_charged: number }) => [
      group.model,
      group.calls,
      group.credits_charged,
    ]),
  ).toEqual([
    ['gpt-4o', 1, 2.5],
    ['unit', 2, 10],
  ])
  expect(response.body.totals).toMatchObject({
    calls: 3,
    credits_charged: 12.5,
    tokens: { input: 1_000_010 },
    refusals: { insufficient_credits: 1, rate_limited: 0 },
  })
})

it('answers 400 naming the field for a bad dimension or range, and 401 without a key', async () => {
  const bad = await h.call('GET', '/v1/usage?group_by=day,week')
  expect(bad).toMatchObject({ status: 400, body: { type: problemType('validation-error') } })
  expect(bad.body.errors[0].path).toMatch(/^group_by/)
  const empty = await h.call(
    'GET',
    '/v1/usage?from=2026-02-01T00:00:00.000Z&to=2026-01-01T00:00:00.000Z',
  )
  expect(empty.status).toBe(400)
  expect((await h.call('GET', '/v1/usage', { key: null })).status).toBe(401)
})

it("another project's usage is not counted", async () => {
  const response = await h.call('GET', '/v1/usage', { key: h.other.adminKey })
  expect(response.body.totals.calls).toBe(0)
})

it('the client reads it over HTTP with getUsage, group_by as an array', async () => {
  const server = await createTestServer({ start: '2026-01-31T12:00:00.000Z' })
  try {
    const client = server.client({ apiKey: server.meteringKey })
    await client.createUser({ user_id: 'bob' })
    const start = await client.startUsageTransaction({ user_id: 'bob', model: 'unit' })
    if (!start.continue) throw new Error(start.message)
    await client.completeUsageTransaction({
      transaction_id: start.transaction_id,
      success: true,
      finalized_tokens: { output_tokens: 4 },
    })
    const report = await client.getUsage({ group_by: ['day', 'model'], model: 'unit' })
    expect(report.data).toEqual([
      expect.objectContaining({ day: '2026-01-31', model: 'unit', calls: 1, credits_charged: 4 }),
    ])
  } finally {
    await server.close()
  }
})
