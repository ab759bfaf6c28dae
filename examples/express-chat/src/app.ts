import type { LanguageModelV4 } from '@ai-sdk/provider'
import { credly, credlyErrorHandler, getCredly } from '@credly/express'
import { streamText } from 'ai'
import type { CredlyClient } from 'credly'
import express from 'express'

/**
 * The chat API: every /api request is for the user your auth names (here the `x-user-id` header,
 * a stand-in: never trust a browser's word in a real app); a user with no credits gets a 402
 * problem before the model is called.
 */
export function createChatApp(options: {
  client: CredlyClient
  model: LanguageModelV4
}): express.Express {
  const app = express()
  app.use(express.json())
  app.use(
    '/api',
    credly({ client: options.client, user: (req) => req.get('x-user-id'), requireCredits: true }),
  )
  app.post('/api/chat', async (req, res) => {
    await streamText({
      model: options.model,
      prompt: String(req.body?.prompt ?? ''),
      // Aborts the model call when the client goes away; the stream is settled either way.
      abortSignal: getCredly(req).signal,
    }).pipeTextStreamToResponse(res)
  })
  app.get('/api/balance', async (req, res) => {
    res.json({ balance: await getCredly(req).getBalance() })
  })
  app.use(credlyErrorHandler())
  return app
}
