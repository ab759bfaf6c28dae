import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'
import {
  type ModelPrice,
  modelPriceSchema,
  type PriceSource,
  type PriceTier,
  type Pricing,
} from 'credly/internal'
import { outOfRange } from '../money.ts'

/*
 * The price catalog: `@pydantic/genai-prices`, bundled data, no network. Why this package and not
 * another is in docs/pricing.md. It is loaded only for a project that prices from it
 * (`preloadCatalog`), so projects without the catalog never pay for its 800 KB.
 */

type GenaiPrices = typeof import('@pydantic/genai-prices')
type GenaiModelPrice = NonNullable<ReturnType<GenaiPrices['calcPrice']>>['model_price']

export const CATALOG_PACKAGE = '@pydantic/genai-prices'

let loaded: Promise<{ prices: GenaiPrices; name: string }> | undefined

/** The catalog module and its name with version (`@pydantic/genai-prices@0.1.8`), loaded once. */
function loadCatalog(): Promise<{ prices: GenaiPrices; name: string }> {
  loaded ??= import('@pydantic/genai-prices').then((prices) => ({
    prices,
    name: `${CATALOG_PACKAGE}@${catalogVersion()}`,
  }))
  return loaded
}

/**
 * Starts loading the catalog when a project prices from it, so that the project's first metered
 * call does not import it inside its write (about a quarter of a second, during which the other
 * operations of that batch wait too). A failed load is reported where the catalog is used.
 */
export function preloadCatalog(pricing: Pricing | undefined): void {
  if (pricing?.catalog) loadCatalog().catch(() => undefined)
}

/** The installed catalog's version, from its package.json (which its exports do not list). */
function catalogVersion(): string {
  try {
    const entry = createRequire(import.meta.url).resolve(CATALOG_PACKAGE)
    const manifest = new URL('../package.json', pathToFileURL(entry))
    return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version
  } catch {
    return 'unknown'
  }
}

/** The catalog's price keys (USD per million tokens) that Credly meters, and their field. */
const PRICE_FIELDS = {
  input_mtok: 'input',
  output_mtok: 'output',
  cache_read_mtok: 'cached_input',
  cache_write_mtok: 'cache_write',
  output_reasoning_mtok: 'reasoning',
} as const satisfies Record<string, keyof PriceTier>

/**
 * AI SDK provider names that differ from the catalog's provider ids. The AI SDK's provider is
 * `<name>.<api>` (`openai.chat`); the part before the first dot names the provider.
 */
const PROVIDER_ALIASES: Record<string, string> = {
  xai: 'x-ai',
  togetherai: 'together',
  'amazon-bedrock': 'aws',
  bedrock: 'aws',
  'google-vertex': 'google',
  vertex: 'google',
}

/** A catalog price in credits, and where it came from. */
export type CatalogPrice = { price: ModelPrice; source: Extract<PriceSource, { from: 'catalog' }> }

/**
 * The catalog's price of `model` served by `provider` at time `at`, in credits per million
 * tokens; undefined when the catalog does not know the model or prices none of its tokens.
 * An unknown provider falls back to the model's own maker (`gpt-4o` behind a proxy is priced as
 * OpenAI's).
 */
export async function catalogPrice(
  pricing: Pricing,
  model: string,
  provider: string | undefined,
  at: number,
): Promise<CatalogPrice | undefined> {
  const { prices, name } = await loadCatalog()
  const timestamp = new Date(at)
  const find = (providerId: string | undefined) =>
    prices.calcPrice(
      {},
      model,
      providerId === undefined ? { timestamp } : { providerId, timestamp },
    )
  const base = provider?.toLowerCase().split('.')[0]
  const match =
    (provider ? find(provider) : null) ??
    (base && base !== provider ? find(PROVIDER_ALIASES[base] ?? base) : null) ??
    find(undefined)
  if (!match) return undefined
  const price = toCredits(match.model_price, pricing)
  if (!price) return undefined
  if (!modelPriceSchema.safeParse(price).success)
    throw outOfRange(
      `The catalog's price of "${model}" is more than 1e9 credits per million tokens at this project's credits_per_usd and markup.`,
      'model',
    )
  return {
    price,
    source: { from: 'catalog', catalog: name, provider: match.provider.id, model: match.model.id },
  }
}

/** One model the catalog prices, for listings. */
export type CatalogEntry = CatalogPrice & { name: string | undefined }

/** Every model of every provider in the catalog that has a token price, priced at time `at`. */
export async function catalogEntries(pricing: Pricing, at: number): Promise<CatalogEntry[]> {
  const { prices, name } = await loadCatalog()
  const timestamp = new Date(at)
  const entries: CatalogEntry[] = []
  // With no update configured (Credly configures none: prices come with package updates), this
  // is the bundled provider list.
  for (const provider of (await prices.waitForUpdate()) ?? []) {
    for (const info of provider.models) {
      const match = prices.calcPrice({}, info.id, { provider, timestamp })
      // An entry another one's pattern shadows is never what a lookup of its id finds.
      if (match?.model.id !== info.id) continue
      const price = toCredits(match.model_price, pricing)
      if (!price) continue
      entries.push({
        price,
        name: info.name,
        source: { from: 'catalog', catalog: name, provider: provider.id, model: info.id },
      })
    }
  }
  return entries
}

/** Converts catalog prices (USD per million tokens) to a price in credits per million tokens. */
function toCredits(usd: GenaiModelPrice, pricing: Pricing): ModelPrice | undefined {
  const perUsd = (pricing.credits_per_usd ?? 0) * pricing.markup
  const base: Partial<Record<keyof PriceTier, number>> = {}
  const tiers = new Map<number, PriceTier>()
  for (const [key, field] of Object.entries(PRICE_FIELDS)) {
    const value = usd[key]
    if (value === undefined) continue
    if (typeof value === 'number') {
      base[field] = credits(value, perUsd)
      continue
    }
    base[field] = credits(value.base, perUsd)
    for (const tier of value.tiers) {
      const entry = tiers.get(tier.start) ?? { above_input_tokens: tier.start }
      tiers.set(tier.start, { ...entry, [field]: credits(tier.price, perUsd) })
    }
  }
  if (base.input === undefined && base.output === undefined) return undefined
  const price: ModelPrice = { ...base, input: base.input ?? 0, output: base.output ?? 0 }
  if (tiers.size > 0)
    price.tiers = [...tiers.values()].sort((a, b) => a.above_input_tokens - b.above_input_tokens)
  return price
}

/**
 * USD per million tokens in credits per million tokens, rounded up to six decimals (a price never
 * gives away a fraction of a micro-credit); rounded to nine decimals first, so float noise
 * (0.075 x 1000 x 1.2 = 90.00000000000001) does not round a whole micro-credit up.
 */
function credits(usdPerMillion: number, creditsPerUsd: number): number {
  const nano = Math.round(usdPerMillion * creditsPerUsd * 1e9)
  return Math.ceil(nano / 1e3) / 1e6
}
