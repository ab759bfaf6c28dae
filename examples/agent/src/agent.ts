import { createOpenAI } from '@ai-sdk/openai'
import type { LanguageModelV4, LanguageModelV4Content } from '@ai-sdk/provider'
import { credlyMiddleware, totalCreditsUsed } from '@credly/ai-sdk'
import { generateText, stepCountIs, tool, wrapLanguageModel } from 'ai'
import type { CredlyClient } from 'credly'
import { z } from 'zod'

/** A tool the agent may call: arithmetic on two numbers. */
const calculator = tool({
  description: 'Multiplies two numbers.',
  inputSchema: z.object({ a: z.number(), b: z.number() }),
  execute: async ({ a, b }) => ({ product: a * b }),
})

/**
 * Runs the agent for `userId`: up to five model calls, each metered on its own (reserved before,
 * settled after, all under the feature `agent`). A user who cannot pay for the next step gets
 * `InsufficientCreditsError` from that step, before the model is called.
 */
export async function runAgent(client: CredlyClient, userId: string, question: string) {
  const model = wrapLanguageModel({
    model: process.env.OPENAI_API_KEY
      ? createOpenAI({ apiKey: process.env.OPENAI_API_KEY }).chat('gpt-4o-mini')
      : localAgentModel(),
    middleware: credlyMiddleware({ client, userId, featureIdentifier: 'agent' }),
  })
  const result = await generateText({
    model,
    prompt: question,
    tools: { calculator },
    stopWhen: stepCountIs(5),
  })
  return { text: result.text, steps: result.steps.length, credits: totalCreditsUsed(result.steps) }
}

/**
 * Offline, a stand-in for gpt-4o-mini that behaves as an agent's model does: asked to multiply
 * two numbers, it first calls the calculator, then answers with its result. Its usage is shaped as
 * OpenAI reports it (about four characters a token), so Credly prices it as gpt-4o-mini.
 */
function localAgentModel(): LanguageModelV4 {
  const tokens = (text: string) => Math.max(1, Math.ceil(text.length / 4))
  return {
    specificationVersion: 'v4',
    provider: 'openai.chat',
    modelId: 'gpt-4o-mini',
    supportedUrls: {},
    async doGenerate({ prompt }) {
      const seen = JSON.stringify(prompt)
      const result = prompt
        .flatMap((message) => (message.role === 'tool' ? message.content : []))
        .find((part) => part.type === 'tool-result')
      const [a = 6, b = 7] = (seen.match(/-?\d+(\.\d+)?/g) ?? []).map(Number)
      const content: LanguageModelV4Content[] = result
        ? [{ type: 'text', text: `The answer is ${answerOf(result.output)}.` }]
        : [
            {
              type: 'tool-call',
              toolCallId: 'call_1',
              toolName: 'calculator',
              input: JSON.stringify({ a, b }),
            },
          ]
      const output = JSON.stringify(content)
      return {
        content,
        finishReason: result
          ? { unified: 'stop', raw: 'stop' }
          : { unified: 'tool-calls', raw: 'tool_calls' },
        usage: {
          inputTokens: { total: tokens(seen), noCache: tokens(seen), cacheRead: 0, cacheWrite: 0 },
          outputTokens: { total: tokens(output), text: tokens(output), reasoning: 0 },
        },
        warnings: [],
      }
    },
    async doStream() {
      throw new Error('the local agent model answers generateText only')
    },
  }
}

/** The calculator's product from a tool result (`{ type: 'json', value: { product } }`). */
function answerOf(output: unknown): string {
  const value = (output as { value?: { product?: unknown } }).value
  return String(value?.product ?? JSON.stringify(output))
}
