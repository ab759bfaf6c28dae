import type { LanguageModelV4StreamPart, LanguageModelV4Usage } from '@ai-sdk/provider'
import { createLocalClient, type LocalClient } from '@credly/ledger'
import { generateText, streamText, wrapLanguageModel } from 'ai'
import { convertArrayToReadableStream, MockLanguageModelV4 } from 'ai/test'
import { CredlyError, InsufficientCreditsError, RateLimitError, runWithCredlyContext } from 'credly'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { credlyMiddleware, totalCreditsUsed } from './index.ts'

// `unit` costs one credit per token, so credits in assertions read as token counts.
const config = {
  models: {
    unit: { input: 1_000_000, output: 1_000_000, cached_input: 500_000, reasoning: 2_000_000 },
  },
  tiers: {
    free: { credits: 100_000 },
    tiny: { credits: 10 },
    limited: { credits: 100_000, rate_limit: { credits: 150, per: 'hour' } },
  },
} as const

let credly: LocalClient
beforeEach(() => {
  credly = createLocalClient({ database: ':memory:', config })
})
afterEach(async () => {
  vi.useRealTimers()
  expect((await credly.verify()).differences).toEqual([])
  await credly.close()
})

const usage = (
  input: number,
  output: number,
  extra: { cacheRead?: number; reasoning?: number } = {},
): LanguageModelV4Usage => ({
  inputTokens: {
    total: input,
    noCache: input - (extra.cacheRead ?? 0),
    cacheRead: extra.cacheRead,
    cacheWrite: undefined,
  },
  outputTokens: {
    total: output,
    text: output - (extra.reasoning ?? 0),
    reasoning: extra.reasoning,
  },
})

const generating = (text: string, used: LanguageModelV4Usage) =>
  new MockLanguageModelV4({
    modelId: 'unit',
    doGenerate: async () => ({
      content: [{ type: 'text', text }],
      finishReason: { unified: 'stop', raw: 'stop' },
      usage: used,
      warnings: [],
    }),
  })

const streamParts = (used: LanguageModelV4Usage): LanguageModelV4StreamPart[] => [
  { type: 'stream-start', warnings: [] },
  { type: 'text-start', id: 't' },
  { type: 'text-delta', id: 't', delta: 'Hello' },
  { type: 'text-delta', id: 't', delta: ', world' },
  { type: 'text-end', id: 't' },
  { type: 'finish', finishReason: { unified: 'stop', raw: 'stop' }, usage: used },
]

async function onlyTransaction(userId: string) {
  const { data } = await credly.getTransactions({ user_id: userId })
  expect(data).toHaveLength(1)
  return data[0] as (typeof data)[number]
}

describe('generate', () => {
  it('reserves, calls the model, and settles with the reported usage, cached and reasoning included', async () => {
    const model = wrapLanguageModel({
      model: generating('Hi!', usage(40, 30, { cacheRead: 10, reasoning: 20 })),
      middleware: credlyMiddleware({ client: credly, featureIdentifier: 'chat' }),
    })
    const result = await generateText({
      model,
      prompt: 'Say hi',
      maxOutputTokens: 100,
      providerOptions: { credly: { userId: 'ann' } },
    })
    expect(result.text).toBe('Hi!')
    // 30 uncached input + 10 cached at half price + 10 text output + 20 reasoning at double price
    expect(result.providerMetadata?.credly).toMatchObject({
      creditsUsed: 85,
      balance: 99_915,
      estimated: false,
    })
    const transaction = await onlyTransaction('ann')
    expect(transaction).toMatchObject({
      status: 'completed',
      feature_identifier: 'chat',
      credits_used: 85,
      finalized_tokens: {
        input_tokens: 40,
        cached_input_tokens: 10,
        output_tokens: 30,
        reasoning_tokens: 20,
      },
      provisional_tokens: { output_tokens: 100 },
    })
    expect(await credly.getBalance('ann')).toEqual({ user_id: 'ann', balance: 99_915, held: 0 })
  })

  it('refuses before calling the provider when the credits do not cover the reservation', async () => {
    await credly.createUser({ user_id: 'poor', tier_id: 'tiny' })
    const inner = generating('never', usage(1, 1))
    const model = wrapLanguageModel({
      model: inner,
      middleware: credlyMiddleware({ client: credly, userId: 'poor' }),
    })
    const error = await generateText({ model, prompt: 'Hello', maxOutputTokens: 50 }).catch(
      (caught: unknown) => caught,
    )
    expect(InsufficientCreditsError.isInstance(error)).toBe(true)
    expect(error).toMatchObject({ status: 402, balance: 10, reason: 'insufficient_credits' })
    expect((error as InsufficientCreditsError).required).toBeGreaterThan(50)
    expect(inner.doGenerateCalls).toHaveLength(0)
    expect(await credly.getBalance('poor')).toEqual({ user_id: 'poor', balance: 10, held: 0 })
  })

  it('refuses a rate-limited user with RateLimitError and a retry time', async () => {
    await credly.createUser({ user_id: 'busy', tier_id: 'limited' })
    const model = wrapLanguageModel({
      model: generating('ok', usage(10, 10)),
      middleware: credlyMiddleware({ client: credly, userId: 'busy' }),
    })
    // 150 credits an hour: the first call reserves about 145 and settles 20; the second needs 145 more.
    await generateText({ model, prompt: 'one', maxOutputTokens: 140 })
    const error = await generateText({ model, prompt: 'two', maxOutputTokens: 140 }).catch(
      (caught: unknown) => caught,
    )
    expect(RateLimitError.isInstance(error)).toBe(true)
    expect((error as RateLimitError).retryAfterSeconds).toBeGreaterThan(0)
  })

  it('completes as failed and rethrows the provider error', async () => {
    const failure = new Error('provider exploded')
    const model = wrapLanguageModel({
      model: new MockLanguageModelV4({
        modelId: 'unit',
        doGenerate: async () => Promise.reject(failure),
      }),
      middleware: credlyMiddleware({ client: credly, userId: 'ann' }),
    })
    const error = await generateText({ model, prompt: 'x', maxRetries: 0 }).catch(
      (caught: unknown) => caught,
    )
    expect(error).toBe(failure)
    expect(await onlyTransaction('ann')).toMatchObject({ status: 'failed', credits_used: 0 })
    expect(await credly.getBalance('ann')).toEqual({ user_id: 'ann', balance: 100_000, held: 0 })
  })

  it('refuses a call with no user rather than metering it against nobody', async () => {
    const inner = generating('x', usage(1, 1))
    const model = wrapLanguageModel({
      model: inner,
      middleware: credlyMiddleware({ client: credly }),
    })
    const error = await generateText({ model, prompt: 'x' }).catch((caught: unknown) => caught)
    expect(CredlyError.isInstance(error)).toBe(true)
    expect((error as Error).message).toMatch(/who this model call is for/)
    expect(inner.doGenerateCalls).toHaveLength(0)
  })

  it('takes the user and client from the request context an adapter sets', async () => {
    const model = wrapLanguageModel({
      model: generating('ctx', usage(5, 5)),
      middleware: credlyMiddleware(),
    })
    await runWithCredlyContext(
      { userId: 'from-context', client: credly, featureIdentifier: '/api/chat' },
      () => generateText({ model, prompt: 'x' }),
    )
    expect(await onlyTransaction('from-context')).toMatchObject({
      credits_used: 10,
      feature_identifier: '/api/chat',
    })
  })

  it('prices the call as another model id when told to, and fails closed on an unpriced one', async () => {
    const inner = new MockLanguageModelV4({
      modelId: 'not-priced',
      doGenerate: generating('x', usage(1, 1)).doGenerate,
    })
    const closed = wrapLanguageModel({
      model: inner,
      middleware: credlyMiddleware({ client: credly, userId: 'ann' }),
    })
    await expect(generateText({ model: closed, prompt: 'x' })).rejects.toThrow(/no price/)
    expect(inner.doGenerateCalls).toHaveLength(0)
    const priced = wrapLanguageModel({
      model: inner,
      middleware: credlyMiddleware({ client: credly, userId: 'ann', modelId: 'unit' }),
    })
    await generateText({ model: priced, prompt: 'x' })
    expect((await onlyTransaction('ann')).model).toBe('unit')
  })

  it('observe mode never blocks: a refused user still gets an answer, reported to onError', async () => {
    await credly.createUser({ user_id: 'poor', tier_id: 'tiny' })
    const errors: unknown[] = []
    const model = wrapLanguageModel({
      model: generating('still answered', usage(100, 100)),
      middleware: credlyMiddleware({
        client: credly,
        userId: 'poor',
        mode: 'observe',
        onError: (error) => errors.push(error),
      }),
    })
    const result = await generateText({ model, prompt: 'x', maxOutputTokens: 500 })
    expect(result.text).toBe('still answered')
    expect(InsufficientCreditsError.isInstance(errors[0])).toBe(true)
  })

  it('meters each step of a tool loop as its own transaction and reports the run total', async () => {
    let step = 0
    const model = wrapLanguageModel({
      model: new MockLanguageModelV4({
        modelId: 'unit',
        doGenerate: async () =>
          step++ === 0
            ? {
                content: [
                  {
                    type: 'tool-call',
                    toolCallId: 'c1',
                    toolName: 'weather',
                    input: '{"city":"Oslo"}',
                  },
                ],
                finishReason: { unified: 'tool-calls', raw: 'tool_calls' },
                usage: usage(20, 10),
                warnings: [],
              }
            : {
                content: [{ type: 'text', text: 'Sunny' }],
                finishReason: { unified: 'stop', raw: 'stop' },
                usage: usage(40, 5),
                warnings: [],
              },
      }),
      middleware: credlyMiddleware({ client: credly, userId: 'agent', featureIdentifier: 'agent' }),
    })
    const { tool, stepCountIs } = await import('ai')
    const { z } = await import('zod')
    const result = await generateText({
      model,
      prompt: 'Weather in Oslo?',
      tools: {
        weather: tool({
          inputSchema: z.object({ city: z.string() }),
          execute: async () => 'sunny',
        }),
      },
      stopWhen: stepCountIs(3),
    })
    expect(result.text).toBe('Sunny')
    expect(totalCreditsUsed(result.steps)).toBe(75)
    const { data } = await credly.getTransactions({ user_id: 'agent' })
    expect(data.map((transaction) => transaction.credits_used).sort()).toEqual([30, 45])
    expect(
      data.every(
        (transaction) =>
          transaction.feature_identifier === 'agent' && transaction.status === 'completed',
      ),
    ).toBe(true)
  })

  it('concurrent calls racing a small balance never overspend', async () => {
    await credly.createUser({ user_id: 'racer', tier_id: 'tiny' })
    const inner = generating('x', usage(1, 1))
    const model = wrapLanguageModel({
      model: inner,
      middleware: credlyMiddleware({
        client: credly,
        userId: 'racer',
        reservation: { estimateInputTokens: () => 1 },
      }),
    })
    // Each call reserves 1 input + 2 output = 3 credits; 10 credits fit three.
    const outcomes = await Promise.allSettled(
      Array.from({ length: 12 }, () => generateText({ model, prompt: 'x', maxOutputTokens: 2 })),
    )
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(3)
    expect(inner.doGenerateCalls).toHaveLength(3)
    expect(await credly.getBalance('racer')).toEqual({ user_id: 'racer', balance: 4, held: 0 })
  })
})

describe('stream', () => {
  it('settles on the finish part with the reported usage', async () => {
    const model = wrapLanguageModel({
      model: new MockLanguageModelV4({
        modelId: 'unit',
        doStream: async () => ({ stream: convertArrayToReadableStream(streamParts(usage(12, 8))) }),
      }),
      middleware: credlyMiddleware({ client: credly, userId: 'ann' }),
    })
    const result = streamText({ model, prompt: 'Hi' })
    expect(await result.text).toBe('Hello, world')
    expect((await result.providerMetadata)?.credly).toMatchObject({
      creditsUsed: 20,
      balance: 99_980,
    })
    expect(await onlyTransaction('ann')).toMatchObject({
      status: 'completed',
      credits_used: 20,
      estimated: false,
    })
  })

  it('settles an aborted stream once, with the prompt and the output streamed so far, as an estimate', async () => {
    let pushed = 0
    const controller = new AbortController()
    const source = new ReadableStream<LanguageModelV4StreamPart>({
      start(stream) {
        stream.enqueue({ type: 'stream-start', warnings: [] })
        stream.enqueue({ type: 'text-start', id: 't' })
      },
      async pull(stream) {
        pushed++
        // 40 characters a chunk: 10 estimated tokens each.
        stream.enqueue({ type: 'text-delta', id: 't', delta: 'x'.repeat(40) })
        await new Promise((resolve) => setTimeout(resolve, 5))
      },
    })
    const model = wrapLanguageModel({
      model: new MockLanguageModelV4({
        modelId: 'unit',
        doStream: async () => ({ stream: source }),
      }),
      middleware: credlyMiddleware({
        client: credly,
        userId: 'ann',
        reservation: { estimateInputTokens: () => 7 },
      }),
    })
    const result = streamText({
      model,
      prompt: 'Tell me everything',
      abortSignal: controller.signal,
      maxOutputTokens: 500,
    })
    let received = ''
    for await (const delta of result.textStream) {
      received += delta
      if (received.length >= 120) controller.abort()
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
    const transaction = await onlyTransaction('ann')
    expect(transaction.status).toBe('failed')
    expect(transaction.estimated).toBe(true)
    expect(transaction.finalized_tokens?.input_tokens).toBe(7)
    // At least what the consumer saw, at most what the source produced.
    expect(transaction.finalized_tokens?.output_tokens).toBeGreaterThanOrEqual(30)
    expect(transaction.finalized_tokens?.output_tokens).toBeLessThanOrEqual(pushed * 10)
    expect((await credly.getBalance('ann')).held).toBe(0)
  })

  it('settles once when the consumer cancels the stream', async () => {
    // The middleware's own stream, as the AI SDK sees it: cancelling it settles the call.
    let sourceCancelled = false
    const source = new ReadableStream<LanguageModelV4StreamPart>({
      pull(stream) {
        stream.enqueue({ type: 'text-delta', id: 't', delta: 'abcd' })
      },
      cancel() {
        sourceCancelled = true
      },
    })
    const middleware = credlyMiddleware({
      client: credly,
      userId: 'ann',
      reservation: { estimateInputTokens: () => 3 },
    })
    const inner = new MockLanguageModelV4({
      modelId: 'unit',
      doStream: async () => ({ stream: source }),
    })
    const params = {
      prompt: [{ role: 'user' as const, content: [{ type: 'text' as const, text: 'x' }] }],
    }
    const { stream } = await (middleware.wrapStream as NonNullable<typeof middleware.wrapStream>)({
      doGenerate: () => inner.doGenerate(params),
      doStream: () => inner.doStream(params),
      params,
      model: inner,
    })
    const reader = stream.getReader()
    await reader.read()
    await reader.read()
    await reader.cancel('client went away')
    expect(sourceCancelled).toBe(true)
    const transaction = await onlyTransaction('ann')
    // 3 prompt tokens plus at least the 8 characters read (2 tokens), estimated.
    expect(transaction).toMatchObject({ status: 'failed', estimated: true })
    expect(transaction.credits_used).toBeGreaterThanOrEqual(5)
    expect(transaction.credits_used).toBeLessThanOrEqual(6)
  })

  it('completes as failed when the stream errors', async () => {
    const model = wrapLanguageModel({
      model: new MockLanguageModelV4({
        modelId: 'unit',
        doStream: async () => ({
          stream: convertArrayToReadableStream<LanguageModelV4StreamPart>([
            { type: 'text-delta', id: 't', delta: '12345678' },
            { type: 'error', error: new Error('upstream reset') },
          ]),
        }),
      }),
      middleware: credlyMiddleware({
        client: credly,
        userId: 'ann',
        reservation: { estimateInputTokens: () => 4 },
      }),
    })
    const result = streamText({ model, prompt: 'x', onError: () => undefined })
    await result.consumeStream()
    const transaction = await onlyTransaction('ann')
    expect(transaction).toMatchObject({ status: 'failed', estimated: true, credits_used: 6 })
  })

  it('stops extending a stream nobody finishes after maxExtendMs, so its hold can expire', async () => {
    useFakeClock()
    const short = createLocalClient({
      database: ':memory:',
      config: { ...config, reservations: { ttl_seconds: 1, on_expire: 'release' } },
    })
    try {
      const extended: string[] = []
      const spy: typeof short = {
        ...short,
        extendUsageTransaction: async (request, options) => {
          extended.push(request.transaction_id)
          return short.extendUsageTransaction(request, options)
        },
      }
      const model = wrapLanguageModel({
        model: new MockLanguageModelV4({
          modelId: 'unit',
          // A stream that never ends, read by nobody.
          doStream: async () => ({
            stream: new ReadableStream<LanguageModelV4StreamPart>({ pull() {} }),
          }),
        }),
        middleware: credlyMiddleware({
          client: spy,
          userId: 'ann',
          extendIntervalMs: 50,
          extendTtlSeconds: 1,
          maxExtendMs: 200,
        }),
      })
      streamText({ model, prompt: 'x' })
      await until(async () => extended.length > 0 || (await heldBy(short, 'ann')) > 0)
      // Every 50 ms up to 200 ms: four extensions, then none.
      await elapse(600)
      expect(extended).toHaveLength(4)
      await elapse(1500)
      expect(extended).toHaveLength(4)
      // The hold expired a second after the last extension and was released by policy.
      expect(await short.getBalance('ann')).toMatchObject({ held: 0 })
    } finally {
      await short.close()
    }
  })

  it('keeps a long stream’s reservation alive by extending it', async () => {
    useFakeClock()
    const short = createLocalClient({
      database: ':memory:',
      config: { ...config, reservations: { ttl_seconds: 1, on_expire: 'release' } },
    })
    try {
      const model = wrapLanguageModel({
        model: new MockLanguageModelV4({
          modelId: 'unit',
          doStream: async () => ({
            stream: new ReadableStream<LanguageModelV4StreamPart>({
              async start(stream) {
                for (let index = 0; index < 6; index++) {
                  stream.enqueue({ type: 'text-delta', id: 't', delta: 'tick ' })
                  await new Promise((resolve) => setTimeout(resolve, 250))
                }
                stream.enqueue({
                  type: 'finish',
                  finishReason: { unified: 'stop', raw: 'stop' },
                  usage: usage(3, 4),
                })
                stream.close()
              },
            }),
          }),
        }),
        middleware: credlyMiddleware({
          client: short,
          userId: 'ann',
          extendIntervalMs: 100,
          extendTtlSeconds: 1,
        }),
      })
      const result = streamText({ model, prompt: 'x' })
      const consumed = result.consumeStream()
      await elapse(2000)
      await consumed
      // 1.5 s of streaming against a 1 s TTL: only the extensions (every 100 ms) kept the hold alive.
      const { data } = await short.getTransactions({ user_id: 'ann' })
      expect(data[0]).toMatchObject({ status: 'completed', credits_used: 7 })
    } finally {
      await short.close()
    }
  }, 10_000)
})

/**
 * Fake time for the middleware's extension timer and the ledger's clock (both read Date), so
 * these tests advance time instead of waiting for it. setImmediate stays real: the SQLite store
 * drains its write queue with it.
 */
function useFakeClock() {
  vi.useFakeTimers({
    toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'],
  })
}

/** Lets `ms` of fake time pass in 10 ms steps, with real turns between for the ledger's writes. */
async function elapse(ms: number) {
  for (let passed = 0; passed < ms; passed += 10) {
    await vi.advanceTimersByTimeAsync(10)
    for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve))
  }
}

/** Credits held for a user, 0 before the user exists. */
async function heldBy(client: LocalClient, userId: string): Promise<number> {
  return (await client.getBalance(userId).catch(() => ({ held: 0 }))).held
}

/** Waits (on real setImmediate turns, not on time) until `condition` holds. */
async function until(condition: () => Promise<boolean>) {
  for (let turn = 0; !(await condition()); turn++) {
    if (turn > 10_000) throw new Error('condition never held')
    await new Promise((resolve) => setImmediate(resolve))
  }
}
