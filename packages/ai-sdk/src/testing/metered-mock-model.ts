import type { LanguageModelV4StreamPart, LanguageModelV4Usage } from '@ai-sdk/provider'
import { wrapLanguageModel } from 'ai'
import { MockLanguageModelV4 } from 'ai/test'
import { credlyMiddleware } from '../credly-middleware.ts'

/** Usage as a provider reports it, from plain input and output counts. */
export function mockUsage(input: number, output: number): LanguageModelV4Usage {
  return {
    inputTokens: { total: input, noCache: input, cacheRead: undefined, cacheWrite: undefined },
    outputTokens: { total: output, text: output, reasoning: undefined },
  }
}

/** How the mock's streams behave; change it between tests. */
export type MockStreamSettings = {
  /** Text chunks of 40 characters (10 estimated tokens each) before the finish part. @default 3 */
  chunks: number
  /** Wait between chunks, in ms. @default 0 */
  delayMs: number
}

/**
 * A `MockLanguageModelV4` (model id `unit`) wrapped once with `credlyMiddleware()` and no user
 * or client of its own, the way an app wraps its model at module scope, so the adapters' request
 * context decides who pays. Generate answers "Hello!" using 10 input and 5 output tokens; a
 * stream sends `settings.chunks` chunks of 40 characters, then a finish using 10 and 30, and stops
 * early when its call is aborted. The reservation is 10 input tokens plus 100 output tokens.
 */
export function meteredMockModel(settings: MockStreamSettings = { chunks: 3, delayMs: 0 }) {
  const inner = new MockLanguageModelV4({
    modelId: 'unit',
    doGenerate: async () => ({
      content: [{ type: 'text', text: 'Hello!' }],
      finishReason: { unified: 'stop', raw: 'stop' },
      usage: mockUsage(10, 5),
      warnings: [],
    }),
    doStream: async ({ abortSignal }) => ({
      stream: new ReadableStream<LanguageModelV4StreamPart>({
        async start(controller) {
          controller.enqueue({ type: 'text-start', id: 't' })
          for (let index = 0; index < settings.chunks; index++) {
            if (abortSignal?.aborted) return
            controller.enqueue({ type: 'text-delta', id: 't', delta: 'x'.repeat(40) })
            await new Promise((resolve) => setTimeout(resolve, settings.delayMs))
          }
          controller.enqueue({
            type: 'finish',
            finishReason: { unified: 'stop', raw: 'stop' },
            usage: mockUsage(10, 30),
          })
          controller.close()
        },
      }),
    }),
  })
  return wrapLanguageModel({
    model: inner,
    middleware: credlyMiddleware({
      reservation: { estimateInputTokens: () => 10, defaultOutputTokens: 100 },
    }),
  })
}

/** A project config where `unit` costs one credit a token, with the tiers the adapter tests use. */
export const adapterTestConfig = {
  models: { unit: { input: 1_000_000, output: 1_000_000 } },
  tiers: {
    free: { credits: 1000 },
    empty: { credits: 0 },
    limited: { credits: 100_000, rate_limit: { credits: 120, per: 'hour' } },
  },
} as const
