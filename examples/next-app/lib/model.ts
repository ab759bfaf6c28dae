import { createOpenAI } from '@ai-sdk/openai'
import { credlyMiddleware } from '@credly/ai-sdk'
import { wrapLanguageModel } from 'ai'

const openai = createOpenAI({
  baseURL: process.env.OPENAI_BASE_URL,
  apiKey: process.env.OPENAI_API_KEY,
})

/**
 * The model, wrapped once: with no user and no client of its own, `credlyMiddleware` meters
 * whoever `withCredits` says the request is for, with the client `withCredits` uses (from
 * CREDLY_API_KEY, CREDLY_PROJECT_ID and CREDLY_BASE_URL).
 */
export const model = wrapLanguageModel({
  model: openai.chat('gpt-4o'),
  middleware: credlyMiddleware({ reservation: { defaultOutputTokens: 1000 } }),
})
