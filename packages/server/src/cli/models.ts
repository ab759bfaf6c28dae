import { readFileSync, writeFileSync } from 'node:fs'
import {
  freezeModelPrices,
  type Ledger,
  listModelPrices,
  type PricedModel,
  type Project,
} from '@credly/ledger'
import type { ProjectConfig } from 'credly'
import { PRICE_HEADINGS, priceRow } from '../price-table.ts'
import {
  databaseOption,
  type Output,
  parse,
  projectOption,
  readConfig,
  table,
  UsageError,
  withProject,
} from './shared.ts'

/**
 * `credly models`: every model the project accepts with its price in credits and where it came
 * from; `--freeze` copies catalog prices into the config's `models`, pinning them.
 */
export async function modelsCommand(args: string[], output: Output): Promise<number> {
  const { values, positionals } = parse(args, {
    provider: { type: 'string' },
    search: { type: 'string' },
    freeze: { type: 'boolean' },
    config: { type: 'string' },
    json: { type: 'boolean' },
    ...databaseOption,
    ...projectOption,
  })
  if (positionals.length > 0 && !values.freeze)
    throw new UsageError(
      `unexpected "${positionals[0]}": model ids are for --freeze. Use --search to find models.`,
    )
  if (values.freeze) return freeze(values, positionals, output)

  const config = values.config
    ? readConfig(values.config)
    : await withProject(values, async (ledger, projectId) =>
        ledger.getProject(projectId).then((project) => project.config),
      )
  const search = values.search?.toLowerCase()
  const provider = values.provider?.toLowerCase()
  const models = (await listModelPrices(config)).filter(
    (entry) =>
      (search === undefined || entry.model.toLowerCase().includes(search)) &&
      (provider === undefined || entry.provider?.toLowerCase() === provider),
  )
  if (values.json) {
    output.out(`${JSON.stringify(models, null, 2)}\n`)
    return 0
  }
  if (config.pricing?.catalog) {
    const { credits_per_usd, markup } = config.pricing
    output.out(
      `Prices in credits per million tokens. Catalog prices: USD x ${credits_per_usd} credits per USD${markup === 1 ? '' : ` x ${markup} markup`}.\n`,
    )
  } else {
    output.out(
      'Prices in credits per million tokens. The price catalog is off: only these models are accepted.\n',
    )
  }
  output.out(table(PRICE_HEADINGS, models.map(priceRow)))
  return 0
}

/**
 * Copies the catalog's prices of the named models (or of every catalog-priced model the project
 * has metered) into the config's `models`: into the --config file, else the stored project.
 */
async function freeze(
  values: { config?: string; provider?: string; database?: string; project?: string },
  named: string[],
  output: Output,
): Promise<number> {
  const report = (frozen: PricedModel[], where: string) => {
    output.out(
      frozen.length === 0
        ? 'Nothing to freeze: every model named or metered is priced under "models" already.\n'
        : `Froze ${frozen.length} price${frozen.length === 1 ? '' : 's'} into ${where}:\n${table(PRICE_HEADINGS, frozen.map(priceRow))}`,
    )
  }
  if (values.config) {
    if (named.length === 0)
      throw new UsageError(
        'with --config, name the models to freeze (credly models --freeze --config FILE gpt-4o ...).',
      )
    const raw = JSON.parse(readFileSync(values.config, 'utf8')) as { models?: object }
    const { frozen } = await freezeModelPrices(readConfig(values.config), toFreeze(named, values))
    const models = { ...raw.models, ...Object.fromEntries(frozen.map((f) => [f.model, f.price])) }
    writeFileSync(values.config, `${JSON.stringify({ ...raw, models }, null, 2)}\n`)
    report(frozen, values.config)
    return 0
  }
  return withProject(values, async (ledger, projectId) => {
    const project = await ledger.getProject(projectId)
    const models = named.length > 0 ? toFreeze(named, values) : await meteredModels(ledger, project)
    const { config, frozen } = await freezeModelPrices(project.config, models)
    if (frozen.length > 0) await ledger.updateProjectConfig(projectId, config as ProjectConfig)
    report(frozen, `project ${projectId}`)
    if (frozen.length > 0)
      output.out(
        'If you run `credly serve --config FILE`, freeze into that file with --config instead: its models replace the stored ones on start.\n',
      )
    return 0
  })
}

const toFreeze = (named: string[], values: { provider?: string }) =>
  named.map((model) => ({ model, provider: values.provider }))

/** Every model the project metered with a catalog price, with the provider it was priced as. */
async function meteredModels(
  ledger: Ledger,
  project: Project,
): Promise<Array<{ model: string; provider: string }>> {
  // From the project's creation: a range from 1970 would have the report total 20,000 empty days.
  const usage = await ledger.getUsage(project.id, { from: project.created_at, group_by: 'model' })
  const models: Array<{ model: string; provider: string }> = []
  for (const { model } of usage.data) {
    if (!model) continue
    const [latest] = (await ledger.listTransactions(project.id, { model, limit: 1 })).data
    if (latest?.price_source?.from === 'catalog')
      models.push({ model, provider: latest.price_source.provider })
  }
  return models
}
