import { withCredits } from '@credly/next'
import { generateText } from 'ai'
import { signedInUser } from '../../../lib/auth.ts'
import { model } from '../../../lib/model.ts'

/** A metered generate route: out of credits is a 402 problem, a credit rate limit a 429. */
export const POST = withCredits(
  async (request, { credly }) => {
    const { prompt } = (await request.json()) as { prompt: string }
    const { text, providerMetadata } = await generateText({
      model,
      prompt,
      abortSignal: credly.signal,
    })
    return Response.json({ text, credly: providerMetadata?.credly })
  },
  { user: signedInUser },
)
