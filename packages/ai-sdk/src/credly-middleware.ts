import type {
  LanguageModelV4,
  LanguageModelV4CallOptions,
  LanguageModelV4Middleware,
  LanguageModelV4Prompt,
  LanguageModelV4StreamPart,
  SharedV4ProviderMetadata,
} from '@ai-sdk/provider'
import { type CompleteUsageResponse, getCredlyContext } from 'credly'
import { type Meter, startMeter } from './meter.ts'
import type {
  CredlyCallMetadata,
  CredlyMiddlewareOptionsOf,
  ReservationPolicyOf,
} from './middleware-options.ts'
import { estimatePromptTokens, estimateTextTokens, toTokenCounts } from './usage.ts'

/** How big a reservation is, before the call says what it used. */
export type ReservationPolicy = ReservationPolicyOf<LanguageModelV4Prompt>

/** Options of `credlyMiddleware`. */
export type CredlyMiddlewareOptions = CredlyMiddlewareOptionsOf<
  LanguageModelV4,
  LanguageModelV4CallOptions,
  LanguageModelV4Prompt
>

/** Per-call options under `providerOptions.credly`. */
type CallOptions = { userId?: unknown; featureIdentifier?: unknown }

/**
 * Meters every call of a wrapped language model through Credly: reserves before the provider is
 * called (refusing with `InsufficientCreditsError` or `RateLimitError`, without calling it),
 * settles with the provider's reported usage after, and settles a stream exactly once however it
 * ends: finished, errored, cancelled by the consumer or aborted by the request.
 *
 * @example
 * ```ts
 * import { openai } from '@ai-sdk/openai'
 * import { credlyMiddleware } from '@credly/ai-sdk'
 * import { generateText, wrapLanguageModel } from 'ai'
 *
 * const model = wrapLanguageModel({ model: openai('gpt-4o'), middleware: credlyMiddleware({ client }) })
 * const { text } = await generateText({
 *   model,
 *   prompt: 'Hello',
 *   providerOptions: { credly: { userId: 'user_42' } },
 * })
 * ```
 */
export function credlyMiddleware(options: CredlyMiddlewareOptions = {}): LanguageModelV4Middleware {
  const policy = options.reservation ?? {}
  const defaultOutput = policy.defaultOutputTokens ?? 4096
  const maxOutput = policy.maxOutputTokens ?? 32_768
  const maxInput = policy.maxInputTokens ?? 200_000

  async function begin(params: LanguageModelV4CallOptions, model: LanguageModelV4) {
    const perCall = (params.providerOptions?.credly ?? {}) as CallOptions
    const userId =
      typeof perCall.userId === 'string'
        ? perCall.userId
        : typeof options.userId === 'function'
          ? options.userId({ params, model })
          : options.userId
    const inputTokens = Math.min(
      maxInput,
      (policy.estimateInputTokens ?? estimatePromptTokens)(params.prompt),
    )
    const outputTokens = Math.min(maxOutput, params.maxOutputTokens ?? defaultOutput)
    const meter = await startMeter(options, {
      userId,
      model:
        typeof options.modelId === 'function'
          ? options.modelId(model)
          : (options.modelId ?? model.modelId),
      // For the price catalog: `openai.chat` and `azure.chat` price the same model differently.
      provider: model.provider,
      tokens: { input_tokens: inputTokens, output_tokens: outputTokens },
      featureIdentifier:
        typeof perCall.featureIdentifier === 'string' ? perCall.featureIdentifier : undefined,
      capOutputAt:
        policy.onShort === 'cap' ? { minOutputTokens: policy.minOutputTokens ?? 256 } : undefined,
    })
    // A capped reservation holds less output than asked for: the provider must stop there too.
    const capped = meter?.cappedOutputTokens
    const callParams = capped === undefined ? params : { ...params, maxOutputTokens: capped }
    return { meter, inputTokens, callParams }
  }

  return {
    specificationVersion: 'v4',

    async wrapGenerate({ doGenerate, params, model }) {
      const { meter, inputTokens, callParams } = await begin(params, model)
      let result: Awaited<ReturnType<typeof doGenerate>>
      try {
        result = await (callParams === params ? doGenerate() : model.doGenerate(callParams))
      } catch (error) {
        // The provider failed; nothing was generated to charge for.
        await meter?.settle({ success: false, tokens: {}, estimated: false })
        throw error
      }
      if (!meter) return result
      const reported = toTokenCounts(result.usage)
      const generated = result.content.reduce(
        (sum, part) =>
          sum + ('text' in part && typeof part.text === 'string' ? part.text.length : 0),
        0,
      )
      const settled = await meter.settle({
        success: true,
        tokens: reported ?? {
          input_tokens: inputTokens,
          output_tokens: estimateTextTokens(generated),
        },
        estimated: reported === undefined,
      })
      return {
        ...result,
        providerMetadata: withCredly(
          result.providerMetadata,
          meter,
          settled,
          reported === undefined,
        ),
      }
    },

    async wrapStream({ doStream, params, model }) {
      warnIfStreamUngated()
      const { meter, inputTokens, callParams } = await begin(params, model)
      let result: Awaited<ReturnType<typeof doStream>>
      try {
        result = await (callParams === params ? doStream() : model.doStream(callParams))
      } catch (error) {
        await meter?.settle({ success: false, tokens: {}, estimated: false })
        throw error
      }
      if (!meter) return result
      meter.keepAlive()
      return { ...result, stream: meteredStream(result.stream, meter, inputTokens) }
    },
  }
}

/**
 * Passes the provider's stream through and settles it exactly once: with the reported usage on
 * `finish`; with an estimate (the prompt plus the output streamed so far) when the stream errors,
 * ends early, or is cancelled by the consumer or an aborted request.
 */
function meteredStream(
  source: ReadableStream<LanguageModelV4StreamPart>,
  meter: Meter,
  inputTokens: number,
): ReadableStream<LanguageModelV4StreamPart> {
  const reader = source.getReader()
  let streamedCharacters = 0
  const estimate = (success: boolean) =>
    meter.settle({
      success,
      tokens: { input_tokens: inputTokens, output_tokens: estimateTextTokens(streamedCharacters) },
      estimated: true,
    })
  return new ReadableStream<LanguageModelV4StreamPart>({
    async pull(controller) {
      let next: ReadableStreamReadResult<LanguageModelV4StreamPart>
      try {
        next = await reader.read()
      } catch (error) {
        await estimate(false)
        controller.error(error)
        return
      }
      if (next.done) {
        // A stream that ends without a finish part is settled on what it streamed.
        await estimate(false)
        controller.close()
        return
      }
      const part = next.value
      if (
        part.type === 'text-delta' ||
        part.type === 'reasoning-delta' ||
        part.type === 'tool-input-delta'
      ) {
        streamedCharacters += part.delta.length
      }
      if (part.type === 'finish') {
        const reported = toTokenCounts(part.usage)
        const settled = await meter.settle({
          success: true,
          tokens: reported ?? {
            input_tokens: inputTokens,
            output_tokens: estimateTextTokens(streamedCharacters),
          },
          estimated: reported === undefined,
        })
        controller.enqueue({
          ...part,
          providerMetadata: withCredly(
            part.providerMetadata,
            meter,
            settled,
            reported === undefined,
          ),
        })
        return
      }
      if (part.type === 'error') await estimate(false)
      controller.enqueue(part)
    },
    async cancel(reason) {
      await estimate(false)
      await reader.cancel(reason)
    },
  })
}

function withCredly(
  metadata: SharedV4ProviderMetadata | undefined,
  meter: Meter,
  settled: CompleteUsageResponse | undefined,
  estimated: boolean,
): SharedV4ProviderMetadata | undefined {
  if (!settled) return metadata
  const credly: CredlyCallMetadata = {
    transactionId: meter.transactionId,
    creditsUsed: settled.credits_used,
    balance: settled.balance,
    estimated,
    capped: meter.cappedOutputTokens !== undefined,
  }
  return { ...metadata, credly }
}

let warnedUngatedStream = false

/**
 * A stream inside an adapter without `requireCredits`: its HTTP status is sent before the model
 * is called, so a user without credits gets a 200 and an empty stream. Said once per process.
 */
function warnIfStreamUngated(): void {
  const context = getCredlyContext()
  if (warnedUngatedStream || !context || context.gated) return
  warnedUngatedStream = true
  console.warn(
    '[credly] A model stream is metered inside credly()/withCredits() without requireCredits: a user ' +
      'without credits gets HTTP 200 and an empty stream, because the status is sent before the ' +
      'model is called. Set requireCredits: true on streaming routes to answer 402 first.',
  )
}
