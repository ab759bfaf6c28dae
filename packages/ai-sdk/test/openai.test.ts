import { createOpenAI } from '@ai-sdk/openai'
import { createOpenAI as createOpenAIV3 } from '@ai-sdk/openai-v3'
import { createTestServer, FaultProxy, type TestServer } from '@credly/server/testing'
import * as aiV7 from 'ai'
import { generateText, wrapLanguageModel } from 'ai'
import * as aiV6 from 'ai-v6'
import { type CredlyClient, InsufficientCreditsError } from 'credly'
import { waitUntil } from 'credly/testing'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import * as faceV6 from '../src/ai-v6.ts'
import * as faceV7 from '../src/index.ts'
import { credlyMiddleware } from '../src/index.ts'
import { OpenAICompatibleServer } from '../src/testing/index.ts'

/**
 * The whole stack as an app runs it: the AI SDK and the real `@ai-sdk/openai` provider against a
 * local OpenAI-compatible server, metered by the middleware through the HTTP client into a real
 * `@credly/server` and its ledger. Prices (credits per million tokens) come from the test config:
 * gpt-4o input 2.5, cached input 1.25, output 10; o4-mini input 1.1, output 4.4, reasoning 8.8.
 */
let credly: TestServer
let client: CredlyClient
let provider: OpenAICompatibleServer
let baseURL: string

beforeEach(async () => {
  credly = await createTestServer()
  client = credly.client({ apiKey: credly.meteringKey })
  provider = new OpenAICompatibleServer()
  baseURL = await provider.listen()
})
afterEach(async () => {
  const report = await credly.ledger.verify(credly.projectId)
  expect(report.differences).toEqual([])
  await provider.close()
  await credly.close()
})

async function transactionsOf(userId: string) {
  return (await client.getTransactions({ user_id: userId })).data
}

/**
 * Each AI SDK major the middleware supports, with its own `@ai-sdk/openai` and Credly's face for
 * it (`@credly/ai-sdk`, `@credly/ai-sdk/ai-v6`). Typed as the current one: the calls below are
 * the same in both, and each major's own types are checked against the packed packages.
 */
type Sdk = {
  name: string
  ai: typeof aiV7
  createOpenAI: typeof createOpenAI
  face: typeof faceV7
}
const sdks = [
  { name: 'AI SDK 7', ai: aiV7, createOpenAI, face: faceV7 },
  { name: 'AI SDK 6', ai: aiV6, createOpenAI: createOpenAIV3, face: faceV6 },
] as unknown as Sdk[]

describe.each(sdks)('$name', ({ ai, createOpenAI, face }) => {
  const { APICallError, generateText, stepCountIs, streamText, tool, wrapLanguageModel } = ai
  const { credlyMiddleware, totalCreditsUsed } = face
  let openai: ReturnType<typeof createOpenAI>
  beforeEach(() => {
    openai = createOpenAI({ baseURL, apiKey: 'test-key' })
  })
  const metered = (
    modelId: string,
    userId: string,
    options: Parameters<typeof credlyMiddleware>[0] = {},
  ) =>
    wrapLanguageModel({
      model: openai.chat(modelId),
      middleware: credlyMiddleware({ client, userId, ...options }),
    })

  describe('@ai-sdk/openai through the middleware', () => {
    it('generateText: settles cached and reasoning tokens at their prices', async () => {
      provider.reply({
        kind: 'text',
        text: 'Forty-two.',
        usage: { prompt: 1000, cached: 400, completion: 500, reasoning: 200 },
      })
      const result = await generateText({
        model: metered('o4-mini', 'ann'),
        prompt: 'The answer?',
        maxOutputTokens: 1000,
      })
      expect(result.text).toBe('Forty-two.')
      // 600 * 1.1 + 400 * 1.1 (no cached price) + 300 * 4.4 + 200 * 8.8 = 4180 micro-credits
      const [transaction] = await transactionsOf('ann')
      expect(transaction).toMatchObject({
        status: 'completed',
        credits_used: 0.00418,
        finalized_tokens: {
          input_tokens: 1000,
          cached_input_tokens: 400,
          output_tokens: 500,
          reasoning_tokens: 200,
        },
        estimated: false,
      })
      expect(await client.getBalance('ann')).toEqual({ user_id: 'ann', balance: 99.99582, held: 0 })
      expect(result.providerMetadata?.credly).toMatchObject({
        creditsUsed: 0.00418,
        balance: 99.99582,
      })
    })

    it('streamText consumed fully: settles with the usage of the last chunk', async () => {
      provider.reply({
        kind: 'stream',
        chunks: ['Hel', 'lo', '!'],
        usage: { prompt: 100, cached: 40, completion: 50 },
      })
      const result = streamText({ model: metered('gpt-4o', 'ann'), prompt: 'Hi' })
      expect(await result.text).toBe('Hello!')
      expect(provider.requests[0]?.body.stream_options).toEqual({ include_usage: true })
      // 60 * 2.5 + 40 * 1.25 + 50 * 10 = 700 micro-credits
      const [transaction] = await transactionsOf('ann')
      expect(transaction).toMatchObject({
        status: 'completed',
        credits_used: 0.0007,
        estimated: false,
      })
      expect((await client.getBalance('ann')).balance).toBe(99.9993)
    })

    it('streamText aborted half way: settles once on the prompt and what was streamed, as an estimate', async () => {
      provider.reply({
        kind: 'stream',
        chunks: ['x'.repeat(40)],
        usage: { prompt: 1, completion: 1 },
        delayMs: 10,
        endless: true,
      })
      const controller = new AbortController()
      const result = streamText({
        model: metered('gpt-4o', 'ann', { reservation: { estimateInputTokens: () => 100 } }),
        prompt: 'Write forever',
        abortSignal: controller.signal,
        maxOutputTokens: 2000,
        onError: () => undefined,
      })
      let seen = 0
      for await (const delta of result.textStream) {
        seen += delta.length
        if (seen >= 400) controller.abort()
      }
      // Settling happens as the stream unwinds; wait until the hold is released.
      await waitUntil(async () => (await client.getBalance('ann')).held === 0)
      const [transaction] = await transactionsOf('ann')
      expect(transaction).toMatchObject({ status: 'failed', estimated: true })
      expect(transaction?.finalized_tokens?.input_tokens).toBe(100)
      const output = transaction?.finalized_tokens?.output_tokens ?? 0
      expect(output).toBeGreaterThanOrEqual(100) // at least the 400 characters the consumer saw
      expect(output).toBeLessThanOrEqual(provider.streamedChunks * 10)
      expect(await client.getBalance('ann')).toMatchObject({ held: 0 })
      expect(transaction?.credits_used).toBeCloseTo((100 * 2.5 + output * 10) / 1e6, 6)
    })

    it('a provider error completes the transaction as failed and rethrows', async () => {
      provider.reply({ kind: 'error', status: 500, message: 'The server had an error' })
      const error = await generateText({
        model: metered('gpt-4o', 'ann'),
        prompt: 'x',
        maxRetries: 0,
      }).catch((caught: unknown) => caught)
      expect(APICallError.isInstance(error)).toBe(true)
      const [transaction] = await transactionsOf('ann')
      expect(transaction).toMatchObject({ status: 'failed', credits_used: 0 })
      expect(await client.getBalance('ann')).toEqual({ user_id: 'ann', balance: 100, held: 0 })
    })

    it('insufficient credits: refused before the provider is called', async () => {
      // Another tier than the default takes the admin key.
      await credly.client().createUser({ user_id: 'broke', tier_id: 'empty' })
      const error = await generateText({ model: metered('gpt-4o', 'broke'), prompt: 'x' }).catch(
        (caught: unknown) => caught,
      )
      expect(InsufficientCreditsError.isInstance(error)).toBe(true)
      expect(error).toMatchObject({ balance: 0, reason: 'insufficient_credits' })
      expect(provider.requests).toHaveLength(0)
      expect(await transactionsOf('broke')).toEqual([])
    })

    it('a multi-step tool loop: one transaction per model call, one feature, one total', async () => {
      provider.reply(
        {
          kind: 'tool-call',
          name: 'weather',
          arguments: { city: 'Oslo' },
          usage: { prompt: 200, completion: 20 },
        },
        { kind: 'text', text: 'It is sunny in Oslo.', usage: { prompt: 260, completion: 30 } },
      )
      const result = await generateText({
        model: metered('gpt-4o', 'ann', { featureIdentifier: 'weather-agent' }),
        prompt: 'Weather in Oslo?',
        tools: {
          weather: tool({
            inputSchema: z.object({ city: z.string() }),
            execute: async ({ city }) => `sunny in ${city}`,
          }),
        },
        stopWhen: stepCountIs(4),
      })
      expect(result.text).toBe('It is sunny in Oslo.')
      const transactions = await transactionsOf('ann')
      expect(transactions).toHaveLength(2)
      expect(
        transactions.every((transaction) => transaction.feature_identifier === 'weather-agent'),
      ).toBe(true)
      // (200 * 2.5 + 20 * 10) + (260 * 2.5 + 30 * 10) = 700 + 950 micro-credits
      expect(totalCreditsUsed(result.steps)).toBe(0.00165)
      expect((await client.getBalance('ann')).balance).toBe(99.99835)
    })

    it('concurrent calls racing a small balance: exactly the calls that fit run', async () => {
      await credly.client().createUser({ user_id: 'racer', tier_id: 'empty' })
      await credly.client().grantCredits({ user_id: 'racer', credits: 0.0003 })
      for (let index = 0; index < 10; index++)
        provider.reply({ kind: 'text', text: 'ok', usage: { prompt: 10, completion: 5 } })
      // Each call reserves 20 input (2.5) + 5 output (10) = 100 micro-credits; 300 fit three.
      const model = metered('gpt-4o', 'racer', { reservation: { estimateInputTokens: () => 20 } })
      const outcomes = await Promise.allSettled(
        Array.from({ length: 10 }, () =>
          generateText({ model, prompt: 'x', maxOutputTokens: 5, maxRetries: 0 }),
        ),
      )
      expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(3)
      expect(provider.requests).toHaveLength(3)
      // Each call used 10 * 2.5 + 5 * 10 = 75 micro-credits.
      expect(await client.getBalance('racer')).toEqual({
        user_id: 'racer',
        balance: 0.000075,
        held: 0,
      })
    })
  })

  describe('small balances: onShort "cap"', () => {
    // 20 input tokens at 2.5 = 50 micro-credits; each output token 10.
    const capped = (userId: string, minOutputTokens?: number) =>
      metered('gpt-4o', userId, {
        reservation: { onShort: 'cap', minOutputTokens, estimateInputTokens: () => 20 },
      })
    const userWith = async (userId: string, credits: number) => {
      await credly.client().createUser({ user_id: userId, tier_id: 'empty' })
      await credly.client().grantCredits({ user_id: userId, credits })
    }

    it('lowers max_tokens to what the user affords, and charges at most what they had', async () => {
      await userWith('low', 0.004) // 4000 micro-credits: (4000 - 50) / 10 = 395 output tokens
      provider.reply({ kind: 'text', text: 'short answer', usage: { prompt: 20, completion: 395 } })
      const result = await generateText({ model: capped('low'), prompt: 'Tell me everything.' })
      expect(provider.requests[0]?.body.max_tokens).toBe(395)
      expect(result.providerMetadata?.credly).toMatchObject({ capped: true, creditsUsed: 0.004 })
      const [transaction] = await transactionsOf('low')
      expect(transaction).toMatchObject({
        status: 'completed',
        credits_reserved: 0.004,
        provisional_tokens: { input_tokens: 20, output_tokens: 395 },
      })
      expect(await client.getBalance('low')).toEqual({ user_id: 'low', balance: 0, held: 0 })
    })

    it('does not cap a call the user can afford whole, and refuses below minOutputTokens', async () => {
      await userWith('fine', 1)
      provider.reply({ kind: 'text', text: 'ok', usage: { prompt: 20, completion: 10 } })
      const result = await generateText({
        model: capped('fine'),
        prompt: 'x',
        maxOutputTokens: 500,
      })
      expect(provider.requests[0]?.body.max_tokens).toBe(500)
      expect(result.providerMetadata?.credly).toMatchObject({ capped: false })

      await userWith('broke', 0.002) // (2000 - 50) / 10 = 195, under the default 256
      const error = await generateText({ model: capped('broke'), prompt: 'x' }).catch(
        (caught: unknown) => caught,
      )
      expect(InsufficientCreditsError.isInstance(error)).toBe(true)
      expect(provider.requests).toHaveLength(1)
      await userWith('lower', 0.002)
      provider.reply({ kind: 'text', text: 'ok', usage: { prompt: 20, completion: 100 } })
      await generateText({ model: capped('lower', 100), prompt: 'x' })
      expect(provider.requests[1]?.body.max_tokens).toBe(195)
    })

    it('caps a stream, which settles exactly once', async () => {
      await userWith('streamer', 0.003) // (3000 - 50) / 10 = 295
      provider.reply({
        kind: 'stream',
        chunks: ['a', 'b', 'c'],
        usage: { prompt: 20, completion: 295 },
      })
      const result = streamText({ model: capped('streamer'), prompt: 'Stream it.' })
      expect(await result.text).toBe('abc')
      expect(provider.requests[0]?.body.max_tokens).toBe(295)
      const transactions = await transactionsOf('streamer')
      expect(transactions).toHaveLength(1)
      expect(transactions[0]).toMatchObject({ status: 'completed', credits_used: 0.003 })
      expect(await client.getBalance('streamer')).toMatchObject({ balance: 0, held: 0 })
    })

    it('caps each step of a tool loop by what the steps before it left', async () => {
      await userWith('agent', 0.008) // step 1: (8000 - 50) / 10 = 795
      provider.reply(
        {
          kind: 'tool-call',
          name: 'weather',
          arguments: { city: 'Oslo' },
          usage: { prompt: 20, completion: 400 }, // 4050: 3950 left, step 2: 390
        },
        { kind: 'text', text: 'Sunny.', usage: { prompt: 20, completion: 300 } }, // 3050
      )
      const result = await generateText({
        model: capped('agent'),
        prompt: 'Weather in Oslo?',
        maxOutputTokens: 1000,
        tools: {
          weather: tool({
            inputSchema: z.object({ city: z.string() }),
            execute: async ({ city }) => `sunny in ${city}`,
          }),
        },
        stopWhen: stepCountIs(4),
      })
      expect(result.text).toBe('Sunny.')
      expect(provider.requests.map((request) => request.body.max_tokens)).toEqual([795, 390])
      expect(totalCreditsUsed(result.steps)).toBe(0.0071)
      expect(await client.getBalance('agent')).toEqual({
        user_id: 'agent',
        balance: 0.0009,
        held: 0,
      })
    })
  })
})

describe('completion retries: one policy, the client', () => {
  it('retries a completion whose answer was lost, settling once, and bounds the attempts', async () => {
    const proxy = new FaultProxy(credly.url)
    const errors: unknown[] = []
    try {
      const viaProxy = credly.client({ apiKey: credly.meteringKey, baseUrl: await proxy.listen() })
      const model = wrapLanguageModel({
        model: createOpenAI({ baseURL, apiKey: 'test-key' }).chat('gpt-4o'),
        middleware: credlyMiddleware({
          client: viaProxy,
          userId: 'ann',
          onError: (error) => errors.push(error),
        }),
      })
      await client.createUser({ user_id: 'ann' })
      const before = await client.getBalance('ann')
      provider.reply({ kind: 'text', text: 'ok', usage: { prompt: 10, completion: 5 } })
      // The server settles the first attempt, whose answer is lost; then a gateway error.
      proxy.failNext('/v1/usage/complete', { kind: 'drop-response' })
      proxy.failNext('/v1/usage/complete', { kind: 'status', status: 503 })
      await generateText({ model, prompt: 'x' })
      const attempts = proxy.received('/v1/usage/complete')
      expect(attempts).toHaveLength(3)
      expect(new Set(attempts.map((attempt) => JSON.stringify(attempt.body))).size).toBe(1)
      const [settled] = await transactionsOf('ann')
      expect(settled).toMatchObject({ status: 'completed', credits_used: 0.000075 })
      // Charged once: the repeats were answered with the first result.
      expect((await client.getBalance('ann')).balance).toBeCloseTo(before.balance - 0.000075, 9)
      expect(errors).toEqual([])

      // A completion that keeps failing is tried 1 + 4 times, then reported, not thrown.
      provider.reply({ kind: 'text', text: 'ok', usage: { prompt: 10, completion: 5 } })
      proxy.failNext('/v1/usage/complete', { kind: 'status', status: 503 }, 100)
      const result = await generateText({ model, prompt: 'x' })
      expect(result.text).toBe('ok')
      expect(proxy.received('/v1/usage/complete')).toHaveLength(3 + 5)
      expect(errors).toHaveLength(1)
    } finally {
      await proxy.close()
    }
  }, 60_000)
})

describe('a project priced by the catalog', () => {
  it('charges what the catalog says the provider charges, with no price typed in', async () => {
    const { calcPrice } = await import('@pydantic/genai-prices')
    const catalogServer = await createTestServer({
      config: {
        pricing: { catalog: true, credits_per_usd: 1000, markup: 1.25 },
        tiers: { free: { credits: 100 } },
      },
    })
    try {
      const catalogClient = catalogServer.client({ apiKey: catalogServer.meteringKey })
      provider.reply({
        kind: 'text',
        text: 'Hi.',
        usage: { prompt: 12_000, cached: 2_000, completion: 3_000 },
      })
      const result = await generateText({
        model: wrapLanguageModel({
          // A dated snapshot, as apps pin them; the middleware sends the provider (openai.chat).
          model: createOpenAI({ baseURL, apiKey: 'test-key' }).chat('gpt-4o-2024-08-06'),
          middleware: credlyMiddleware({ client: catalogClient, userId: 'ann' }),
        }),
        prompt: 'Hello',
        maxOutputTokens: 4000,
      })
      const usd = calcPrice(
        { input_tokens: 12_000, cache_read_tokens: 2_000, output_tokens: 3_000 },
        'gpt-4o-2024-08-06',
        { providerId: 'openai' },
      )?.total_price
      const credits = result.providerMetadata?.credly?.creditsUsed as number
      expect(credits).toBeCloseTo((usd ?? Number.NaN) * 1000 * 1.25, 6)
      const [transaction] = (await catalogClient.getTransactions({ user_id: 'ann' })).data
      expect(transaction?.price_source).toMatchObject({
        from: 'catalog',
        provider: 'openai',
        model: 'gpt-4o',
      })
      expect((await catalogServer.ledger.verify(catalogServer.projectId)).ok).toBe(true)
    } finally {
      await catalogServer.close()
    }
  })
})
