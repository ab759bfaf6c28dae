import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { calcPrice, waitForUpdate } from '@pydantic/genai-prices'
import { type ProjectConfigInput, type TokenCounts, ValidationError } from 'credly'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createLocalClient, type LocalClient } from '../local-client.ts'
import { createTestClock } from '../testing/index.ts'

const CREDITS_PER_USD = 1000
const MARKUP = 1.2

const catalogConfig: ProjectConfigInput = {
  pricing: { catalog: true, credits_per_usd: CREDITS_PER_USD, markup: MARKUP },
  tiers: { paid: { credits: 10_000_000 } },
}

let folder: string
const clients: LocalClient[] = []
const open = (
  config: ProjectConfigInput = catalogConfig,
  clock = createTestClock(),
  file = 'credly.db',
) => {
  const client = createLocalClient({ database: join(folder, file), config, clock })
  clients.push(client)
  return client
}

beforeEach(() => {
  folder = mkdtempSync(join(tmpdir(), 'credly-catalog-'))
})
afterEach(async () => {
  for (const client of clients.splice(0)) {
    expect((await client.verify()).ok).toBe(true)
    await client.close()
  }
  rmSync(folder, { recursive: true, force: true })
})

/** The same usage in the catalog's words: its input includes cache reads and writes, as ours. */
const catalogUsage = (tokens: TokenCounts) => ({
  input_tokens: tokens.input_tokens ?? 0,
  cache_read_tokens: tokens.cached_input_tokens ?? 0,
  cache_write_tokens: tokens.cache_write_tokens ?? 0,
  output_tokens: tokens.output_tokens ?? 0,
})

/** Starts and completes one call; returns what it was charged and its transaction. */
async function meter(
  credly: LocalClient,
  call: { model: string; provider?: string; tokens: TokenCounts },
) {
  await credly.createUser({ user_id: 'u' }).catch(() => undefined)
  const start = await credly.startUsageTransaction({
    user_id: 'u',
    model: call.model,
    provider: call.provider,
    provisional_tokens: call.tokens,
  })
  if (!start.continue) throw new Error(`refused: ${start.message}`)
  const done = await credly.completeUsageTransaction({
    transaction_id: start.transaction_id,
    success: true,
    finalized_tokens: call.tokens,
  })
  return { start, done, transaction: await credly.getTransaction(start.transaction_id) }
}

describe('the price catalog', () => {
  const cases: Array<{
    why: string
    model: string
    provider?: string
    /** The catalog's id for the provider, where the AI SDK's name differs. */
    catalogProvider?: string
    tokens: TokenCounts
  }> = [
    {
      why: 'an OpenAI dated snapshot through the AI SDK provider name, with cached input',
      model: 'gpt-4o-2024-08-06',
      provider: 'openai.chat',
      tokens: { input_tokens: 12_345, cached_input_tokens: 4_000, output_tokens: 678 },
    },
    {
      why: 'Anthropic with cache reads and writes',
      model: 'claude-sonnet-4-5',
      provider: 'anthropic.messages',
      tokens: {
        input_tokens: 50_000,
        cached_input_tokens: 20_000,
        cache_write_tokens: 10_000,
        output_tokens: 1_500,
      },
    },
    {
      why: 'Anthropic above its long-context threshold (the whole call at the higher tier)',
      model: 'claude-sonnet-4-5-20250929',
      provider: 'anthropic.messages',
      tokens: { input_tokens: 250_000, cached_input_tokens: 30_000, output_tokens: 2_000 },
    },
    {
      why: 'Google long context',
      model: 'gemini-2.5-pro',
      provider: 'google.generative-ai',
      tokens: { input_tokens: 300_001, output_tokens: 3_000 },
    },
    {
      why: 'Google below the threshold',
      model: 'gemini-2.5-pro',
      provider: 'google.generative-ai',
      tokens: { input_tokens: 200_000, output_tokens: 3_000 },
    },
    {
      why: 'xAI, whose AI SDK name (xai) differs from the catalog id',
      model: 'grok-4',
      provider: 'xai.chat',
      catalogProvider: 'x-ai',
      tokens: { input_tokens: 8_000, cached_input_tokens: 1_000, output_tokens: 900 },
    },
    {
      why: 'DeepSeek',
      model: 'deepseek-chat',
      provider: 'deepseek.chat',
      catalogProvider: 'deepseek',
      tokens: { input_tokens: 7_000, output_tokens: 333 },
    },
    {
      why: 'a Mistral alias',
      model: 'mistral-large-latest',
      provider: 'mistral.chat',
      tokens: { input_tokens: 4_321, output_tokens: 1_234 },
    },
    {
      why: 'an open-weight model on Groq',
      model: 'llama-3.3-70b-versatile',
      provider: 'groq.chat',
      catalogProvider: 'groq',
      tokens: { input_tokens: 9_999, output_tokens: 999 },
    },
    {
      why: 'a model without a provider, priced at its maker',
      model: 'gpt-4o-mini',
      tokens: { input_tokens: 1_000_001, output_tokens: 77 },
    },
  ]

  it.each(cases)('charges what the catalog charges: $why', async (call) => {
    const clock = createTestClock()
    const credly = open(catalogConfig, clock)
    const { done, transaction } = await meter(credly, call)
    // At the ledger's time, not the wall clock's: DeepSeek's price depends on the time of day.
    const expected = calcPrice(catalogUsage(call.tokens), call.model, {
      providerId: call.catalogProvider ?? call.provider,
      timestamp: new Date(clock.now()),
    })
    expect(expected).not.toBeNull()
    const credits = (expected?.total_price ?? 0) * CREDITS_PER_USD * MARKUP
    // Ours rounds up to a micro-credit once per call; the catalog's is a float.
    expect(done.credits_used).toBeGreaterThanOrEqual(credits - 1e-9)
    expect(done.credits_used).toBeLessThanOrEqual(credits + 1e-6 + 1e-9)
    expect(transaction.price_source).toEqual({
      from: 'catalog',
      catalog: expect.stringMatching(/^@pydantic\/genai-prices@\d+\.\d+\.\d+/),
      provider: expected?.provider.id,
      model: expected?.model.id,
    })
  })

  it('prices a model under "models" from the config, not the catalog', async () => {
    const credly = open({ ...catalogConfig, models: { 'gpt-4o': { input: 1, output: 1 } } })
    const { done, transaction } = await meter(credly, {
      model: 'gpt-4o',
      provider: 'openai.chat',
      tokens: { input_tokens: 1_000_000, output_tokens: 1_000_000 },
    })
    expect(done.credits_used).toBe(2)
    expect(transaction.price_source).toEqual({ from: 'config' })
  })

  it('refuses a model the catalog does not know, changing nothing', async () => {
    const credly = open()
    await credly.createUser({ user_id: 'u' })
    await expect(
      credly.startUsageTransaction({ user_id: 'u', model: 'no-such-model-7', provider: 'openai' }),
    ).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/price catalog/) })
    expect(await credly.getUser('u')).toMatchObject({ balance: 10_000_000, held: 0 })
  })

  it('with the catalog off, an unpriced model is refused as before', async () => {
    const credly = open({
      models: { 'gpt-4o': { input: 1, output: 1 } },
      tiers: catalogConfig.tiers,
    })
    await credly.createUser({ user_id: 'u' })
    await expect(
      credly.startUsageTransaction({ user_id: 'u', model: 'gpt-4o-mini' }),
    ).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/"catalog": true/) })
  })

  it('settles at the price the call started with, whatever the config says by then', async () => {
    const credly = open()
    await credly.createUser({ user_id: 'u' })
    const tokens = { input_tokens: 100_000, output_tokens: 10_000 }
    const start = await credly.startUsageTransaction({
      user_id: 'u',
      model: 'gpt-4o',
      provider: 'openai.responses',
      provisional_tokens: tokens,
    })
    if (!start.continue) throw new Error(start.message)
    await credly.ledger.updateProjectConfig(credly.projectId, {
      ...catalogConfig,
      pricing: { catalog: true, credits_per_usd: CREDITS_PER_USD, markup: 5 },
    })
    const done = await credly.completeUsageTransaction({
      transaction_id: start.transaction_id,
      success: true,
      finalized_tokens: tokens,
    })
    const usd = calcPrice(catalogUsage(tokens), 'gpt-4o', { providerId: 'openai' })?.total_price
    expect(done.credits_used).toBeCloseTo((usd ?? 0) * CREDITS_PER_USD * MARKUP, 5)
  })

  it('uses the price in force at the ledger clock, for prices the catalog dates', async () => {
    // A model whose token price changed on a date, found in the catalog's own data.
    const tokens = { input_tokens: 1_000_000, output_tokens: 100_000 }
    const day = 86_400_000
    const providers = (await waitForUpdate()) ?? []
    const changes = providers.flatMap((provider) =>
      provider.models.flatMap((model) =>
        (Array.isArray(model.prices) ? model.prices : []).flatMap((price) =>
          price.constraint?.type === 'start_date'
            ? [{ provider, model, changedOn: Date.parse(price.constraint.start_date) }]
            : [],
        ),
      ),
    )
    const usdAt = (change: (typeof changes)[number], at: number) =>
      calcPrice(catalogUsage(tokens), change.model.id, {
        providerId: change.provider.id,
        timestamp: new Date(at),
      })?.total_price
    const dated = changes.find(
      (change) =>
        usdAt(change, change.changedOn - day) !== usdAt(change, change.changedOn + day) &&
        calcPrice({}, change.model.id, { providerId: change.provider.id })?.model.id ===
          change.model.id,
    )
    if (!dated) throw new Error('the catalog has no dated token price to test with')
    const charged: number[] = []
    for (const at of [dated.changedOn - day, dated.changedOn + day]) {
      const credly = open(catalogConfig, createTestClock(at), `${at}.db`)
      const { done } = await meter(credly, {
        model: dated.model.id,
        provider: dated.provider.id,
        tokens,
      })
      expect(done.credits_used).toBeCloseTo((usdAt(dated, at) ?? 0) * CREDITS_PER_USD * MARKUP, 5)
      charged.push(done.credits_used)
    }
    expect(charged[0]).not.toBe(charged[1])
  })

  it('asks for credits_per_usd with the catalog on, and for models with it off', async () => {
    expect(() =>
      open({ pricing: { catalog: true }, tiers: catalogConfig.tiers } as ProjectConfigInput),
    ).toThrow(ValidationError)
    expect(() => open({ tiers: catalogConfig.tiers } as ProjectConfigInput)).toThrow(
      /models is required unless the price catalog is on/,
    )
  })
})
