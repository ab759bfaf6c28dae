import { withCredits } from '@credly/next'
import { streamText } from 'ai'
import { signedInUser } from '../../../lib/auth.ts'
import { model } from '../../../lib/model.ts'

/**
 * A metered streaming route. A stream's status is sent before the model is called, so
 * `requireCredits` refuses a user without credits with a 402 first; the stream is settled when it
 * ends, errors, or the client goes away (`credly.signal` is the request's abort signal).
 */
export const POST = withCredits(
  async (request, { credly }) => {
    const { prompt } = (await request.json()) as { prompt: string }
    return streamText({ model, prompt, abortSignal: credly.signal }).toTextStreamResponse()
  },
  { user: signedInUser, requireCredits: true },
)
