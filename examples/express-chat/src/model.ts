import { createOpenAI } from '@ai-sdk/openai'
import type { LanguageModelV4 } from '@ai-sdk/provider'
import { credlyMiddleware } from '@credly/ai-sdk'
import { localChatModel } from '@credly/ai-sdk/testing'
import { wrapLanguageModel } from 'ai'

/**
 * The chat model, metered: OpenAI's gpt-4o-mini with OPENAI_API_KEY, else a local model that
 * answers at once with usage shaped as OpenAI reports it, so the example runs offline. Either way
 * Credly prices it from the catalog as gpt-4o-mini.
 */
export function chatModel(): LanguageModelV4 {
  const model = process.env.OPENAI_API_KEY
    ? createOpenAI({ apiKey: process.env.OPENAI_API_KEY }).chat('gpt-4o-mini')
    : localChatModel()
  // No client and no user here: credly() on the route gives both for the request.
  return wrapLanguageModel({
    model,
    middleware: credlyMiddleware({ reservation: { defaultOutputTokens: 1000 } }),
  })
}
