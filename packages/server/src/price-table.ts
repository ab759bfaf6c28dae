import type { PricedModel } from '@credly/ledger'
import type { ModelPrice } from 'credly'

/** The columns of a table of model prices, in the CLI and the dashboard. */
export const PRICE_HEADINGS = [
  'model',
  'provider',
  'input',
  'cached input',
  'cache write',
  'output',
  'reasoning',
  'long prompts',
  'source',
]

/** A priced model as a row of the models table (blank where a price falls back to another). */
export function priceRow(entry: PricedModel): string[] {
  const price = entry.price
  const cell = (value: number | undefined) => (value === undefined ? '' : String(value))
  return [
    entry.model,
    entry.provider ?? '',
    cell(price.input),
    cell(price.cached_input),
    cell(price.cache_write),
    cell(price.output),
    cell(price.reasoning),
    describeTiers(price),
    entry.source.from === 'catalog' ? entry.source.catalog : 'config',
  ]
}

/** Long-prompt tiers in a few words: "above 200000: input 6000, output 22500". */
export function describeTiers(price: ModelPrice): string {
  return (price.tiers ?? [])
    .map(
      ({ above_input_tokens, ...prices }) =>
        `above ${above_input_tokens}: ${Object.entries(prices)
          .filter(([, value]) => value !== undefined)
          .map(([field, value]) => `${field.replace('_', ' ')} ${value}`)
          .join(', ')}`,
    )
    .join('; ')
}
