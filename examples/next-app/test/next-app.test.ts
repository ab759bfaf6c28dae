import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { OpenAICompatibleServer } from '@credly/ai-sdk/testing'
import { createTestServer, type TestServer } from '@credly/server/testing'
import { launchChromium } from '@credly-test/browser'
import {
  abortStreamAfter,
  assertInsufficientCredits,
  assertMissingUser,
  assertRateLimited,
  waitUntil,
} from 'credly/testing'
import Stripe from 'stripe'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

/**
 * The Next.js example app, built with `next build` and served by `next start` on 127.0.0.1,
 * metering through a real Credly server; the model is `@ai-sdk/openai` against a local
 * OpenAI-compatible server. Prices (test config): gpt-4o input 2.5, output 10 credits per million.
 */
const appDirectory = fileURLToPath(new URL('..', import.meta.url))
const nextBin = fileURLToPath(new URL('../node_modules/next/dist/bin/next', import.meta.url))
let credly: TestServer
let openai: OpenAICompatibleServer
let next: ChildProcess
let baseUrl: string
let nextLog = ''
const webhookSecret = 'whsec_next_app_test'

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

beforeAll(async () => {
  credly = await createTestServer({
    config: {
      models: { 'gpt-4o': { input: 2.5, output: 10 } },
      tiers: {
        free: { credits: 1 },
        empty: { credits: 0 },
        limited: { credits: 100, rate_limit: { credits: 0.012, per: 'day' } },
      },
    },
  })
  openai = new OpenAICompatibleServer()
  const openaiUrl = await openai.listen()
  const env = {
    ...process.env,
    NEXT_TELEMETRY_DISABLED: '1',
    CREDLY_API_KEY: credly.meteringKey,
    CREDLY_PROJECT_ID: credly.projectId,
    CREDLY_BASE_URL: credly.url,
    CREDLY_ADMIN_KEY: credly.adminKey,
    STRIPE_SECRET_KEY: 'sk_test_credly_no_network',
    STRIPE_WEBHOOK_SECRET: webhookSecret,
    OPENAI_BASE_URL: openaiUrl,
    OPENAI_API_KEY: 'test-key',
  }
  await promisify(execFile)(process.execPath, [nextBin, 'build'], {
    cwd: appDirectory,
    env,
    timeout: 240_000,
  })
  const port = await freePort()
  next = spawn(process.execPath, [nextBin, 'start', '-p', String(port), '-H', '127.0.0.1'], {
    cwd: appDirectory,
    env,
  })
  next.stdout?.on('data', (chunk) => {
    nextLog += chunk
  })
  next.stderr?.on('data', (chunk) => {
    nextLog += chunk
  })
  baseUrl = `http://127.0.0.1:${port}`
  for (let attempt = 0; ; attempt++) {
    try {
      if ((await fetch(baseUrl)).ok) break
    } catch {
      if (attempt > 150) throw new Error(`next start did not answer: ${nextLog}`)
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
  }
}, 300_000)

afterAll(async () => {
  next?.kill('SIGTERM')
  await openai?.close()
  if (credly) {
    expect((await credly.ledger.verify(credly.projectId)).differences).toEqual([])
    await credly.close()
  }
})

const post = (path: string, user: string | undefined, prompt = 'Hello') =>
  fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(user ? { authorization: `Bearer demo-session-${user}` } : {}),
    },
    body: JSON.stringify({ prompt }),
  })

const seen = async (response: Response) => ({
  status: response.status,
  headers: response.headers,
  body: await response.json(),
})
const transactionsOf = async (userId: string) =>
  (await credly.ledger.listTransactions(credly.projectId, { user_id: userId })).data

describe('examples/next-app under next start', () => {
  it('meters a generate route for the signed-in user', async () => {
    openai.reply({ kind: 'text', text: 'Hi there', usage: { prompt: 100, completion: 20 } })
    const response = await post('/api/chat', 'ann')
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({
      text: 'Hi there',
      credly: { creditsUsed: 0.00045 },
    })
    expect(await transactionsOf('ann')).toMatchObject([
      { status: 'completed', credits_used: 0.00045, feature_identifier: '/api/chat' },
    ])
  })

  it('settles a streamed route consumed fully', async () => {
    openai.reply({
      kind: 'stream',
      chunks: ['Str', 'eam', 'ed'],
      usage: { prompt: 50, completion: 10 },
    })
    const response = await post('/api/stream', 'bea')
    expect(await response.text()).toBe('Streamed')
    expect(await transactionsOf('bea')).toMatchObject([
      { status: 'completed', credits_used: 0.000225 },
    ])
  })

  it('settles a streamed route the client aborts, on what was streamed', async () => {
    openai.reply({
      kind: 'stream',
      chunks: ['y'.repeat(40)],
      usage: { prompt: 1, completion: 1 },
      delayMs: 20,
      endless: true,
    })
    await abortStreamAfter(
      `${baseUrl}/api/stream`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer demo-session-cal' },
        body: JSON.stringify({ prompt: 'Go on forever' }),
      },
      200,
    )
    await waitUntil(async () => (await transactionsOf('cal'))[0]?.status !== 'pending', 5000)
    const transactions = await transactionsOf('cal')
    expect(transactions).toHaveLength(1)
    expect(transactions[0]).toMatchObject({ status: 'failed', estimated: true })
    expect(transactions[0]?.finalized_tokens?.output_tokens).toBeGreaterThanOrEqual(50)
  })

  it('answers 402 before streaming to a user without credits, and from the model on generate', async () => {
    await credly.ledger.createUser(credly.projectId, { user_id: 'dee', tier_id: 'empty' })
    assertInsufficientCredits(await seen(await post('/api/stream', 'dee')), { balance: 0 })
    assertInsufficientCredits(await seen(await post('/api/chat', 'dee')), { balance: 0 })
    expect(await transactionsOf('dee')).toEqual([])
  })

  it('answers 429 with Retry-After and RateLimit fields for a rate-limited user', async () => {
    await credly.ledger.createUser(credly.projectId, { user_id: 'eve', tier_id: 'limited' })
    openai.reply({ kind: 'text', text: 'ok', usage: { prompt: 10, completion: 900 } })
    // A call reserves about 0.01 credits (1000 output tokens); the first used 0.009 of the
    // day's 0.012, so the second does not fit.
    expect((await post('/api/chat', 'eve')).status).toBe(200)
    assertRateLimited(await seen(await post('/api/chat', 'eve')), {
      limit: 0.012,
      windowSeconds: 86_400,
    })
  })

  it('answers 401 to a request without a signed-in user', async () => {
    assertMissingUser(await seen(await post('/api/chat', undefined)))
  })

  it('mounts the Stripe webhook as the route handler itself, and grants a paid top-up once', async () => {
    const stripe = new Stripe('sk_test_credly_no_network')
    const body = JSON.stringify({
      id: 'evt_next_app_1',
      object: 'event',
      api_version: '2026-10-28.endive',
      created: Math.floor(Date.now() / 1000),
      type: 'checkout.session.completed',
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      data: {
        object: {
          id: 'cs_test_next_app',
          object: 'checkout.session',
          mode: 'payment',
          payment_status: 'paid',
          status: 'complete',
          client_reference_id: 'stripe-buyer',
          metadata: { credly_user_id: 'stripe-buyer', credly_credits: '3' },
        },
      },
    })
    const deliver = () =>
      fetch(`${baseUrl}/api/stripe`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'stripe-signature': stripe.webhooks.generateTestHeaderString({
            payload: body,
            secret: webhookSecret,
          }),
        },
        body,
      })
    expect(await (await deliver()).json()).toMatchObject({ outcome: 'granted' })
    expect((await deliver()).status).toBe(200)
    // The default tier's credit, and the top-up once.
    expect(await credly.ledger.getBalance(credly.projectId, 'stripe-buyer')).toMatchObject({
      balance: 4,
    })
  })

  it('the page streams an answer in a real browser and shows the credits left; out of credits it says why', async () => {
    const browser = await launchChromium()
    try {
      const page = await browser.newPage()
      openai.reply({
        kind: 'stream',
        chunks: ['Hi ', 'from ', 'the page'],
        usage: { prompt: 40, completion: 10 },
      })
      await page.goto(`${baseUrl}/?user=page-user`)
      await page.getByTestId('balance').filter({ hasText: '1' }).waitFor()
      await page.getByRole('button', { name: 'Send' }).click()
      await page.getByTestId('answer').filter({ hasText: 'Hi from the page' }).waitFor()
      // 40 * 2.5 + 10 * 10 micro-credits: 0.0002 of the free tier's 1 credit.
      await page.getByTestId('balance').filter({ hasText: '0.9998' }).waitFor()
      expect(await transactionsOf('page-user')).toMatchObject([
        { status: 'completed', credits_used: 0.0002 },
      ])

      await credly.ledger.createUser(credly.projectId, { user_id: 'page-broke', tier_id: 'empty' })
      await page.goto(`${baseUrl}/?user=page-broke`)
      await page.getByTestId('balance').filter({ hasText: '0' }).waitFor()
      await page.getByRole('button', { name: 'Send' }).click()
      expect(await page.getByTestId('error').textContent()).toContain('credits')
    } finally {
      await browser.close()
    }
  }, 900_000)
})
