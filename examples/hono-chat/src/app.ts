import { createOpenAI } from '@ai-sdk/openai'
import { credlyMiddleware } from '@credly/ai-sdk'
import { localChatModel } from '@credly/ai-sdk/testing'
import { type CredlyEnv, credly } from '@credly/hono'
import { streamText, wrapLanguageModel } from 'ai'
import type { CredlyClient } from 'credly'
import { Hono } from 'hono'

/**
 * The chat API: each /api request is for the user your auth names (here the `x-user-id` header,
 * a stand-in: never trust a browser's word in a real app); a user with no credits gets a 402
 * problem before the model is called. The model is OpenAI's gpt-4o-mini with OPENAI_API_KEY,
 * else a local stand-in that reports real-shaped usage; Credly prices both from the catalog.
 */
export function createChatApp(client: CredlyClient): Hono<CredlyEnv> {
  const model = wrapLanguageModel({
    model: process.env.OPENAI_API_KEY
      ? createOpenAI({ apiKey: process.env.OPENAI_API_KEY }).chat('gpt-4o-mini')
      : localChatModel(),
    middleware: credlyMiddleware({ reservation: { defaultOutputTokens: 1000 } }),
  })
  const app = new Hono<CredlyEnv>()
  app.use(
    '/api/*',
    credly({ client, user: (c) => c.req.header('x-user-id'), requireCredits: true }),
  )
  app.post('/api/chat', async (c) => {
    const { prompt } = await c.req.json<{ prompt?: string }>()
    return streamText({
      model,
      prompt: String(prompt ?? ''),
      // Aborts the model call when the client goes away; the stream is settled either way.
      abortSignal: c.var.credly.signal,
    }).toTextStreamResponse()
  })
  app.get('/api/balance', async (c) => c.json({ balance: await c.var.credly.getBalance() }))
  return app
}
