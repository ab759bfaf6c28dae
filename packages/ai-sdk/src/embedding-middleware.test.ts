import { createLocalClient, type LocalClient } from '@credly/ledger'
import * as aiV7 from 'ai'
import { MockEmbeddingModelV4 } from 'ai/test'
import * as aiV6 from 'ai-v6'
import { MockEmbeddingModelV3 } from 'ai-v6/test'
import { InsufficientCreditsError } from 'credly'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import * as faceV6 from './ai-v6.ts'
import * as faceV7 from './index.ts'

let credly: LocalClient
beforeEach(() => {
  credly = createLocalClient({
    database: ':memory:',
    // One credit per input token.
    config: {
      models: { embed: { input: 1_000_000, output: 0 } },
      tiers: { free: { credits: 100 }, none: { credits: 0 } },
    },
  })
})
afterEach(async () => {
  expect((await credly.verify()).differences).toEqual([])
  await credly.close()
})

/** Each AI SDK major, with its own mock embedding model and Credly's face for it. */
type Sdk = {
  name: string
  ai: typeof aiV7
  MockEmbeddingModel: typeof MockEmbeddingModelV4
  face: typeof faceV7
}
const sdks = [
  { name: 'AI SDK 7', ai: aiV7, MockEmbeddingModel: MockEmbeddingModelV4, face: faceV7 },
  { name: 'AI SDK 6', ai: aiV6, MockEmbeddingModel: MockEmbeddingModelV3, face: faceV6 },
] as unknown as Sdk[]

describe.each(sdks)(
  '$name',
  ({ ai: { embedMany, wrapEmbeddingModel }, MockEmbeddingModel, face }) => {
    const { credlyEmbeddingMiddleware } = face
    const embedder = (tokens: number | undefined) =>
      new MockEmbeddingModel({
        modelId: 'embed',
        maxEmbeddingsPerCall: 10,
        doEmbed: async ({ values }) => ({
          embeddings: values.map(() => [0.1, 0.2]),
          usage: tokens === undefined ? undefined : { tokens },
          warnings: [],
        }),
      })

    it('settles embeddings on the reported input tokens', async () => {
      const model = wrapEmbeddingModel({
        model: embedder(12),
        middleware: credlyEmbeddingMiddleware({ client: credly, userId: 'ann' }),
      })
      const { embeddings } = await embedMany({ model, values: ['alpha beta', 'gamma'] })
      expect(embeddings).toHaveLength(2)
      const { data } = await credly.getTransactions({ user_id: 'ann' })
      expect(data[0]).toMatchObject({
        status: 'completed',
        credits_used: 12,
        finalized_tokens: { input_tokens: 12 },
        estimated: false,
      })
      expect((await credly.getBalance('ann')).balance).toBe(88)
    })

    it('estimates from the values when the provider reports no usage', async () => {
      const model = wrapEmbeddingModel({
        model: embedder(undefined),
        middleware: credlyEmbeddingMiddleware({ client: credly, userId: 'ann' }),
      })
      await embedMany({ model, values: ['x'.repeat(40)] })
      const { data } = await credly.getTransactions({ user_id: 'ann' })
      expect(data[0]).toMatchObject({ credits_used: 10, estimated: true })
    })

    it('refuses a user without credits before embedding', async () => {
      await credly.createUser({ user_id: 'broke', tier_id: 'none' })
      const inner = embedder(1)
      const model = wrapEmbeddingModel({
        model: inner,
        middleware: credlyEmbeddingMiddleware({ client: credly, userId: 'broke' }),
      })
      const error = await embedMany({ model, values: ['hello'], maxRetries: 0 }).catch(
        (caught: unknown) => caught,
      )
      expect(InsufficientCreditsError.isInstance(error)).toBe(true)
      expect(inner.doEmbedCalls).toHaveLength(0)
    })
  },
)
