import type { AddressInfo } from 'node:net'
import {
  adapterTestConfig,
  type MockStreamSettings,
  meteredMockModel,
} from '@credly/ai-sdk/testing'
import { createLocalClient, type LocalClient } from '@credly/ledger'
import { generateText, streamText } from 'ai'
import {
  abortStreamAfter,
  assertFailsWithoutClient,
  assertInsufficientCredits,
  assertMissingUser,
  assertRateLimited,
  waitUntil,
} from 'credly/testing'
import express, { type Express } from 'express'
import request from 'supertest'
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest'
import { credly, credlyErrorHandler, getCredly } from './index.ts'

// Every warning of this file's process, to check the ungated-stream warning is said once.
const warnings: string[] = []
const warn = console.warn
console.warn = (...args: unknown[]) => {
  warnings.push(args.map(String).join(' '))
}
afterAll(() => {
  console.warn = warn
})

// Wrapped once, at module scope, with no user and no client: the request context supplies both.
const stream: MockStreamSettings = { chunks: 3, delayMs: 0 }
const model = meteredMockModel(stream)

let ledger: LocalClient
let app: Express
beforeEach(() => {
  ledger = createLocalClient({ database: ':memory:', config: adapterTestConfig })
  stream.chunks = 3
  stream.delayMs = 0
  app = express()
  // The app's own auth: here a header the test sets, standing in for a session.
  app.use((req, _res, next) => {
    const id = req.header('x-test-user')
    if (id) (req as express.Request & { user?: { id: string } }).user = { id }
    next()
  })
  app.use('/gated', credly({ client: ledger, requireCredits: true }))
  app.use(credly({ client: ledger }))
  app.post('/api/chat', async (req, res) => {
    const { text, providerMetadata } = await generateText({
      model,
      prompt: 'hi',
      abortSignal: getCredly(req).signal,
    })
    res.json({ text, credly: providerMetadata?.credly, user: req.credly?.userId })
  })
  app.post(['/api/stream', '/gated/stream'], (req, res) => {
    void streamText({
      model,
      prompt: 'hi',
      abortSignal: getCredly(req).signal,
    }).pipeTextStreamToResponse(res)
  })
  app.use(credlyErrorHandler())
})
afterEach(async () => {
  expect((await ledger.verify()).differences).toEqual([])
  await ledger.close()
})

describe('@credly/express', () => {
  it('meters a generate route for the signed-in user through the request context', async () => {
    const response = await request(app).post('/api/chat').set('x-test-user', 'ann').expect(200)
    expect(response.body).toMatchObject({
      text: 'Hello!',
      user: 'ann',
      credly: { creditsUsed: 15, balance: 985 },
    })
    const { data } = await ledger.getTransactions({ user_id: 'ann' })
    expect(data).toMatchObject([
      { status: 'completed', credits_used: 15, feature_identifier: '/api/chat' },
    ])
  })

  it('answers 401 for a request without a user, and never meters it', async () => {
    const response = await request(app).post('/api/chat')
    assertMissingUser(response)
    expect((await ledger.getUsers()).data).toEqual([])
  })

  it('answers 402 from the model middleware when the user cannot afford the call', async () => {
    await ledger.createUser({ user_id: 'broke', tier_id: 'empty' })
    const response = await request(app).post('/api/chat').set('x-test-user', 'broke')
    assertInsufficientCredits(response, { balance: 0 })
    expect((await ledger.getTransactions({ user_id: 'broke' })).data).toEqual([])
  })

  it('answers 402 before a streaming handler runs with requireCredits', async () => {
    await ledger.createUser({ user_id: 'broke', tier_id: 'empty' })
    const response = await request(app).post('/gated/stream').set('x-test-user', 'broke')
    assertInsufficientCredits(response, { balance: 0 })
  })

  it('answers 429 with Retry-After and RateLimit fields for a rate-limited user', async () => {
    await ledger.createUser({ user_id: 'busy', tier_id: 'limited' })
    // The first call reserves 110 and settles 15; the second would need 110 of the 105 left.
    await request(app).post('/api/chat').set('x-test-user', 'busy').expect(200)
    const response = await request(app).post('/api/chat').set('x-test-user', 'busy')
    assertRateLimited(response, { limit: 120, windowSeconds: 3600 })
    expect((await ledger.getTransactions({ user_id: 'busy' })).data).toHaveLength(1)
  })

  it('settles a streamed route consumed fully', async () => {
    const response = await request(app).post('/api/stream').set('x-test-user', 'ann').expect(200)
    expect(response.text).toBe('x'.repeat(120))
    const { data } = await ledger.getTransactions({ user_id: 'ann' })
    expect(data).toMatchObject([{ status: 'completed', credits_used: 40, estimated: false }])
  })

  it('warns once that a streamed route without requireCredits answers 200 to a user without credits', async () => {
    await request(app).post('/gated/stream').set('x-test-user', 'ann').expect(200)
    await request(app).post('/api/stream').set('x-test-user', 'ann').expect(200)
    await request(app).post('/api/stream').set('x-test-user', 'ann').expect(200)
    const said = warnings.filter((warning) => warning.includes('without requireCredits'))
    expect(said).toHaveLength(1)
    expect(said[0]).toContain('Set requireCredits: true on streaming routes')
  })

  it('settles a streamed route the client aborts, on what was streamed', async () => {
    stream.chunks = 10_000
    stream.delayMs = 10
    const server = app.listen(0, '127.0.0.1')
    await new Promise((resolve) => server.once('listening', resolve))
    try {
      const port = (server.address() as AddressInfo).port
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
      expect((await ledger.getBalance('ann')).held).toBe(0)
    } finally {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
  })

  it('getCredly explains a missing credly()', () => {
    expect(() => getCredly({} as express.Request)).toThrow(/app.use\(credly\(\)\)/)
  })
})

it('fails when created without a client or its environment, naming what to set', () => {
  assertFailsWithoutClient(() => credly())
})
