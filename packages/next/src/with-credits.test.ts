import { adapterTestConfig, meteredMockModel } from '@credly/ai-sdk/testing'
import { createLocalClient, type LocalClient } from '@credly/ledger'
import { generateText } from 'ai'
import {
  assertFailsWithoutClient,
  assertInsufficientCredits,
  assertMissingUser,
  assertRateLimited,
} from 'credly/testing'
import { afterEach, beforeEach, expect, it } from 'vitest'
import { withCredits } from './index.ts'

const model = meteredMockModel()

let ledger: LocalClient
beforeEach(() => {
  ledger = createLocalClient({ database: ':memory:', config: adapterTestConfig })
})
afterEach(async () => {
  expect((await ledger.verify()).differences).toEqual([])
  await ledger.close()
})

// The app's auth, standing in for a session lookup.
const user = (request: Request) => request.headers.get('x-test-user') ?? undefined
const route = (options: Parameters<typeof withCredits>[1] = {}) =>
  withCredits<Request, { params: Promise<{ slug: string }> }>(
    async (_request, { credly, params }) => {
      const { text } = await generateText({ model, prompt: 'hi', abortSignal: credly.signal })
      return Response.json({ text, user: credly.userId, slug: (await params).slug })
    },
    { client: ledger, user, ...options },
  )

async function call(handler: ReturnType<typeof route>, who?: string) {
  const response = await handler(
    new Request('http://localhost/api/chat/intro', {
      method: 'POST',
      headers: who ? { 'x-test-user': who } : {},
    }),
    { params: Promise.resolve({ slug: 'intro' }) },
  )
  return { status: response.status, headers: response.headers, body: await response.json() }
}

it('meters the signed-in user and passes Next route params through', async () => {
  expect(await call(route(), 'ann')).toMatchObject({
    status: 200,
    body: { text: 'Hello!', user: 'ann', slug: 'intro' },
  })
  const { data } = await ledger.getTransactions({ user_id: 'ann' })
  expect(data).toMatchObject([
    { status: 'completed', credits_used: 15, feature_identifier: '/api/chat/intro' },
  ])
})

it('answers 401 without a user, and 401 for every request when no user option is given', async () => {
  assertMissingUser(await call(route()))
  assertMissingUser(
    await call(
      withCredits(async () => new Response('never'), { client: ledger }),
      'ann',
    ),
  )
})

it('answers 402 from the model, and before the handler with requireCredits', async () => {
  await ledger.createUser({ user_id: 'broke', tier_id: 'empty' })
  assertInsufficientCredits(await call(route(), 'broke'), { balance: 0 })
  let ran = false
  const gated = withCredits(
    async () => {
      ran = true
      return new Response('streaming...')
    },
    { client: ledger, user, requireCredits: 5 },
  )
  assertInsufficientCredits(await call(gated as ReturnType<typeof route>, 'broke'), {
    balance: 0,
    required: 5,
  })
  expect(ran).toBe(false)
})

it('answers 429 with Retry-After and RateLimit fields', async () => {
  await ledger.createUser({ user_id: 'busy', tier_id: 'limited' })
  expect((await call(route(), 'busy')).status).toBe(200)
  assertRateLimited(await call(route(), 'busy'), { limit: 120, windowSeconds: 3600 })
})

it('rethrows errors that are not Credly refusals', async () => {
  const broken = withCredits(
    async () => {
      throw new Error('bug in the handler')
    },
    { client: ledger, user },
  )
  await expect(
    // Next passes every route handler its params, a static route's as well.
    broken(new Request('http://localhost/x', { headers: { 'x-test-user': 'ann' } }), {
      params: Promise.resolve({}),
    }),
  ).rejects.toThrow('bug in the handler')
})

it('fails when created without a client or its environment, naming what to set', () => {
  assertFailsWithoutClient(() => withCredits(async () => new Response('ok')))
})
