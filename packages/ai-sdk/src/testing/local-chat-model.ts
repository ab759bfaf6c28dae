import type { LanguageModelV4, LanguageModelV4StreamPart } from '@ai-sdk/provider'

/**
 * A stand-in for a chat model, for examples and demos that run offline: it answers at once,
 * quoting the prompt, and reports its tokens (about four characters each) in the shape OpenAI's
 * provider does, as `provider` and `modelId` (default `openai.chat` / `gpt-4o-mini`), so Credly
 * prices it as that model.
 */
export function localChatModel(
  options: { provider?: string; modelId?: string } = {},
): LanguageModelV4 {
  const tokens = (text: string) => Math.max(1, Math.ceil(text.length / 4))
  const answer = (prompt: string) => `You said: "${prompt}". (A local model answered.)`
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
    provider: options.provider ?? 'openai.chat',
    modelId: options.modelId ?? 'gpt-4o-mini',
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
