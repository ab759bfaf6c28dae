import type { EmbeddingModelV4, EmbeddingModelV4Middleware } from '@ai-sdk/provider'
import { startMeter } from './meter.ts'
import type { CredlyEmbeddingMiddlewareOptionsOf } from './middleware-options.ts'
import { estimateTextTokens } from './usage.ts'

/** Options of `credlyEmbeddingMiddleware`. */
export type CredlyEmbeddingMiddlewareOptions = CredlyEmbeddingMiddlewareOptionsOf<EmbeddingModelV4>

/**
 * Meters embedding calls (`wrapEmbeddingModel`) on their input tokens: reserves an estimate of
 * the values, settles with the provider's reported token count.
 */
export function credlyEmbeddingMiddleware(
  options: CredlyEmbeddingMiddlewareOptions = {},
): EmbeddingModelV4Middleware {
  return {
    specificationVersion: 'v4',
    async wrapEmbed({ doEmbed, params, model }) {
      const perCall = (params.providerOptions?.credly ?? {}) as {
        userId?: unknown
        featureIdentifier?: unknown
      }
      const estimate = estimateTextTokens(
        params.values.reduce((sum, value) => sum + value.length, 0),
      )
      const meter = await startMeter(options, {
        userId: typeof perCall.userId === 'string' ? perCall.userId : options.userId,
        model:
          typeof options.modelId === 'function'
            ? options.modelId(model)
            : (options.modelId ?? model.modelId),
        provider: model.provider,
        tokens: { input_tokens: estimate },
        featureIdentifier:
          typeof perCall.featureIdentifier === 'string' ? perCall.featureIdentifier : undefined,
      })
      let result: Awaited<ReturnType<typeof doEmbed>>
      try {
        result = await doEmbed()
      } catch (error) {
        await meter?.settle({ success: false, tokens: {}, estimated: false })
        throw error
      }
      const reported = result.usage?.tokens
      await meter?.settle({
        success: true,
        tokens: { input_tokens: reported ?? estimate },
        estimated: reported === undefined,
      })
      return result
    },
  }
}
