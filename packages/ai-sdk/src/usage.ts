import type { LanguageModelV4Prompt, LanguageModelV4Usage } from '@ai-sdk/provider'
import type { TokenCounts } from 'credly'

const whole = (value: number | undefined) =>
  value === undefined || !Number.isFinite(value) ? undefined : Math.max(0, Math.round(value))

/**
 * The AI SDK's usage as Credly token counts: cached reads and cache writes are part of the
 * input, reasoning part of the output, exactly as the wire contract counts them. Undefined when
 * the provider reported no usage at all.
 */
export function toTokenCounts(usage: LanguageModelV4Usage | undefined): TokenCounts | undefined {
  if (!usage) return undefined
  const cacheRead = whole(usage.inputTokens?.cacheRead)
  const cacheWrite = whole(usage.inputTokens?.cacheWrite)
  const noCache = whole(usage.inputTokens?.noCache)
  let input = whole(usage.inputTokens?.total)
  if (input === undefined && [noCache, cacheRead, cacheWrite].some((part) => part !== undefined)) {
    input = (noCache ?? 0) + (cacheRead ?? 0) + (cacheWrite ?? 0)
  }
  const reasoning = whole(usage.outputTokens?.reasoning)
  const text = whole(usage.outputTokens?.text)
  let output = whole(usage.outputTokens?.total)
  if (output === undefined && (text !== undefined || reasoning !== undefined))
    output = (text ?? 0) + (reasoning ?? 0)
  if (input === undefined && output === undefined) return undefined

  const counts: TokenCounts = {}
  if (input !== undefined) counts.input_tokens = input
  if (output !== undefined) counts.output_tokens = output
  // Providers disagree on whether details are included in totals; the wire contract says they
  // are, so never report more detail than total.
  if (cacheRead) counts.cached_input_tokens = Math.min(cacheRead, input ?? 0)
  if (cacheWrite)
    counts.cache_write_tokens = Math.min(
      cacheWrite,
      (input ?? 0) - (counts.cached_input_tokens ?? 0),
    )
  if (reasoning) counts.reasoning_tokens = Math.min(reasoning, output ?? 0)
  return counts
}

/** Tokens a file or image part is assumed to cost when estimating a prompt. */
export const FILE_PART_TOKENS = 1000

/**
 * A quick estimate of a prompt's tokens: about four characters a token for text, tool calls and
 * tool results, four tokens of overhead a message, and `FILE_PART_TOKENS` for each file or image.
 * Only used to size a reservation (and to bill an aborted stream); the settled charge uses the
 * provider's reported usage.
 */
export function estimatePromptTokens(prompt: LanguageModelV4Prompt): number {
  let characters = 0
  let tokens = 0
  for (const message of prompt) {
    tokens += 4
    if (typeof message.content === 'string') {
      characters += message.content.length
      continue
    }
    for (const part of message.content as unknown as Array<
      { type: string } & Record<string, unknown>
    >) {
      if (part.type === 'text' || part.type === 'reasoning')
        characters += String(part.text ?? '').length
      else if (part.type === 'file') tokens += FILE_PART_TOKENS
      else characters += JSON.stringify(part.input ?? part.output ?? part).length
    }
  }
  return tokens + Math.ceil(characters / 4)
}

/** Estimated tokens of streamed text: about four characters a token. */
export function estimateTextTokens(characters: number): number {
  return Math.ceil(characters / 4)
}
