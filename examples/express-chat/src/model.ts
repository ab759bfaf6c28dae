import { createOpenAI } from '@ai-sdk/openai'
import type { LanguageModelV4, LanguageModelV4StreamPart } from '@ai-sdk/provider'
import { credlyMiddleware } from '@credly/ai-sdk'
import { wrapLanguageModel } from 'ai'

/**
 * The chat model, metered: OpenAI's gpt-4o-mini with OPENAI_API_KEY, else a local model that
 * answers at once with usage shaped as OpenAI reports it, so the example runs offline. Either way
 * Credly prices it from the catalog as gpt-4o-mini.
 */
export function chatModel(): LanguageModelV4 {
  const model = process.env.OPENAI_API_KEY
    ? createOpenAI({ apiKey: process.env.OPENAI_API_KEY }).chat('gpt-4o-mini')
    : localModel()
  // No client and no user here: credly() on the route gives both for the request.
  return wrapLanguageModel({
    model,
    middleware: credlyMiddleware({ reservation: { defaultOutputTokens: 1000 } }),
  })
}

/** A stand-in for gpt-4o-mini: streams a short answer and reports its tokens (about 4 chars each). */
function localModel(): LanguageModelV4 {
  const tokens = (text: string) => Math.max(1, Math.ceil(text.length / 4))
  const answer = (prompt: string) =>
    `You said: "${prompt}". (A local model answered; set OPENAI_API_KEY for OpenAI.)`
  const usage = (prompt: string, text: string) => ({
    inputTokens: { total: tokens(prompt), noCache: tokens(prompt), cacheRead: 0, cacheWrite: 0 },
    outputTokens: { total: tokens(text), text: tokens(text), reasoning: 0 },
  })
  // The text of the prompt's messages (a system message is a string, the others hold parts).
  const promptOf = (options: { prompt: Array<{ content: unknown }> }) =>
    options.prompt
      .flatMap(({ content }) =>
        typeof content === 'string'
          ? [content]
          : (content as Array<{ type: string; text?: string }>).flatMap((part) =>
              part.type === 'text' && part.text ? [part.text] : [],
            ),
      )
      .join('\n')
  return {
    specificationVersion: 'v4',
    provider: 'openai.chat',
    modelId: 'gpt-4o-mini',
    supportedUrls: {},
    async doGenerate(options) {
      const text = answer(promptOf(options))
      return {
        content: [{ type: 'text', text }],
        finishReason: { unified: 'stop', raw: 'stop' },
        usage: usage(promptOf(options), text),
        warnings: [],
      }
    },
    async doStream(options) {
      const text = answer(promptOf(options))
      const words = text.split(/(?<= )/)
      return {
        stream: new ReadableStream<LanguageModelV4StreamPart>({
          start(controller) {
            controller.enqueue({ type: 'text-start', id: 't' })
            for (const word of words)
              controller.enqueue({ type: 'text-delta', id: 't', delta: word })
            controller.enqueue({ type: 'text-end', id: 't' })
            controller.enqueue({
              type: 'finish',
              finishReason: { unified: 'stop', raw: 'stop' },
              usage: usage(promptOf(options), text),
            })
            controller.close()
          },
        }),
      }
    },
  }
}
