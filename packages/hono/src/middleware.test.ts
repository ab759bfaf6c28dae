import {
  adapterTestConfig,
  type MockStreamSettings,
  meteredMockModel,
} from '@credly/ai-sdk/testing'
import { createLocalClient, type LocalClient } from '@credly/ledger'
import { serve } from '@hono/node-server'
import { generateText, streamText } from 'ai'
import {
  abortStreamAfter,
  assertFailsWithoutClient,
  assertInsufficientCredits,
  assertMissingUser,
  assertRateLimited,
  waitUntil,
} from 'credly/testing'
import { Hono } from 'hono'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type CredlyEnv, credly } from './index.ts'

// Wrapped once, at module scope, with no user and no client: the request context supplies both.
const stream: MockStreamSettings = { chunks: 3, delayMs: 0 }
const model = meteredMockModel(stream)

let ledger: LocalClient
let app: Hono<CredlyEnv>
beforeEach(() => {
  ledger = createLocalClient({ database: ':memory:', config: adapterTestConfig })
  stream.chunks = 3
  stream.delayMs = 0
  app = new Hono<CredlyEnv>()
  // The app's own auth, standing in for a session.
  app.use(async (c, next) => {
    const id = c.req.header('x-test-user')
    if (id) c.set('user' as never, { id } as never)
    await next()
  })
  app.use('/gated/*', credly({ client: ledger, requireCredits: true }))
  app.use('/api/*', credly({ client: ledger }))
  app.post('/api/chat', async (c) => {
    const { text, providerMetadata } = await generateText({
      model,
      prompt: 'hi',
      abortSignal: c.var.credly.signal,
    })
    return c.json({ text, credly: providerMetadata?.credly, user: c.var.credly.userId })
  })
  for (const path of ['/api/stream', '/gated/stream']) {
    app.post(path, (c) =>
      streamText({ model, prompt: 'hi', abortSignal: c.var.credly.signal }).toTextStreamResponse(),
    )
  }
})
afterEach(async () => {
  expect((await ledger.verify()).differences).toEqual([])
  await ledger.close()
})

async function call(path: string, user?: string) {
  const response = await app.request(path, {
    method: 'POST',
    headers: user ? { 'x-test-user': user } : {},
  })
  const text = await response.text()
  let body: unknown = text
  try {
    body = JSON.parse(text)
  } catch {}
  return { status: response.status, headers: response.headers, body, text }
}

describe('@credly/hono', () => {
  it('meters a generate route for the signed-in user through the request context', async () => {
    const response = await call('/api/chat', 'ann')
    expect(response).toMatchObject({
      status: 200,
      body: { text: 'Hello!', user: 'ann', credly: { creditsUsed: 15, balance: 985 } },
    })
    const { data } = await ledger.getTransactions({ user_id: 'ann' })
    expect(data).toMatchObject([
      { status: 'completed', credits_used: 15, feature_identifier: '/api/chat' },
    ])
  })

  it('answers 401 for a request without a user', async () => {
    assertMissingUser(await call('/api/chat'))
    expect((await ledger.getUsers()).data).toEqual([])
  })

  it('answers 402 from the model middleware, and before a streaming handler with requireCredits', async () => {
    await ledger.createUser({ user_id: 'broke', tier_id: 'empty' })
    assertInsufficientCredits(await call('/api/chat', 'broke'), { balance: 0 })
    assertInsufficientCredits(await call('/gated/stream', 'broke'), { balance: 0 })
    expect((await ledger.getTransactions({ user_id: 'broke' })).data).toEqual([])
  })

  it('answers 429 with Retry-After and RateLimit fields for a rate-limited user', async () => {
    await ledger.createUser({ user_id: 'busy', tier_id: 'limited' })
    expect((await call('/api/chat', 'busy')).status).toBe(200)
    assertRateLimited(await call('/api/chat', 'busy'), { limit: 120, windowSeconds: 3600 })
  })

  it('settles a streamed route consumed fully', async () => {
    const response = await call('/api/stream', 'ann')
    expect(response.text).toBe('x'.repeat(120))
    expect((await ledger.getTransactions({ user_id: 'ann' })).data).toMatchObject([
      { status: 'completed', credits_used: 40 },
    ])
  })

  it('on a real port: settles a stream the client aborts, on what was streamed', async () => {
    stream.chunks = 10_000
    stream.delayMs = 10
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' })
    await new Promise((resolve) => server.once('listening', resolve))
    try {
      const { port } = server.address() as { port: number }
      await abortStreamAfter(
        `http://127.0.0.1:${port}/api/stream`,
        { method: 'POST', headers: { 'x-test-user': 'ann' } },
        200,
      )
      await waitUntil(async () => (await ledger.getBalance('ann')).held === 0)
      const { data } = await ledger.getTransactions({ user_id: 'ann' })
      expect(data).toHaveLength(1)
      expect(data[0]).toMatchObject({ status: 'failed', estimated: true })
      expect(data[0]?.finalized_tokens?.output_tokens).toBeGreaterThanOrEqual(50)
    } finally {
      ;(server as import('node:http').Server).closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
  })
})

it('fails when created without a client or its environment, naming what to set', () => {
  assertFailsWithoutClient(() => credly())
})
