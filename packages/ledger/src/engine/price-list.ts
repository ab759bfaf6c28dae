import {
  CredlyApiError,
  CredlyError,
  type ModelPrice,
  type PriceSource,
  type ProjectConfig,
} from 'credly'
import { catalogEntries, catalogPrice } from './catalog.ts'

/** A model a project accepts, its price in credits per million tokens, and where that is from. */
export type PricedModel = {
  /** The model id a call names. */
  model: string
  /** For catalog prices, the catalog's provider id; null for the config's own prices. */
  provider: string | null
  price: ModelPrice
  source: PriceSource
}

/**
 * Every model the project accepts: those under `models` (which win), then, with the catalog on,
 * every model the catalog prices, converted to credits by `pricing`, as at time `at`.
 */
export async function listModelPrices(
  config: ProjectConfig,
  at: number = Date.now(),
): Promise<PricedModel[]> {
  const configured: PricedModel[] = Object.entries(config.models ?? {}).map(([model, price]) => ({
    model,
    provider: null,
    price,
    source: { from: 'config' },
  }))
  if (!config.pricing?.catalog) return configured
  const own = new Set(Object.keys(config.models ?? {}))
  const catalog = (await catalogEntries(config.pricing, at))
    .filter((entry) => !own.has(entry.source.model))
    .map((entry) => ({ model: entry.source.model, provider: entry.source.provider, ...entry }))
  return [...configured, ...catalog]
}

/**
 * `config` with the catalog's current price of each model copied under `models`, so the price
 * stays what it is now when the catalog changes. A model already under `models` keeps its price;
 * a model the catalog does not know is an error naming it.
 */
export async function freezeModelPrices(
  config: ProjectConfig,
  models: Array<{ model: string; provider?: string | undefined }>,
  at: number = Date.now(),
): Promise<{ config: ProjectConfig; frozen: PricedModel[] }> {
  if (!config.pricing?.catalog)
    throw new CredlyError(
      'The price catalog is off in this project, so there is nothing to freeze: every price is under "models" already.',
    )
  const prices = { ...config.models }
  const frozen: PricedModel[] = []
  for (const { model, provider } of models) {
    if (Object.hasOwn(prices, model)) continue
    const found = await catalogPrice(config.pricing, model, provider, at)
    if (!found)
      throw CredlyApiError.fromKind(
        'unknown-model',
        `The price catalog does not know the model "${model}"${provider ? ` of "${provider}"` : ''}.`,
      )
    prices[model] = found.price
    frozen.push({ model, provider: found.source.provider, ...found })
  }
  return { config: { ...config, models: prices }, frozen }
}
