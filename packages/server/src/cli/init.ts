import { createProjectWithKeys } from '../project-with-keys.ts'

import {
  databaseOption,
  type Output,
  openLedger,
  parse,
  readConfig,
  redact,
  UsageError,
} from './shared.ts'

/** `credly init`: a project from a config file, and its two keys, printed once. */
export async function initCommand(args: string[], output: Output): Promise<number> {
  const { values } = parse(args, {
    config: { type: 'string' },
    json: { type: 'boolean' },
    'new-project': { type: 'boolean' },
    ...databaseOption,
  })
  if (!values.config)
    throw new UsageError("init needs --config FILE (the project's models and tiers).")
  const config = readConfig(values.config)
  const { ledger, store, database } = openLedger(values.database)
  try {
    const existing = await ledger.listProjects()
    if (existing.length > 0 && !values['new-project']) {
      throw new UsageError(
        `${redact(database)} already has a project (${existing.map((project) => project.id).join(', ')}); its keys were printed when it was created. ` +
          'Make new keys with `credly keys create --scope metering` (or admin), change its models and tiers with `credly serve --config FILE`, ' +
          'or pass --new-project to add another project to this database on purpose.',
      )
    }
    const created = await createProjectWithKeys(ledger, config)
    if (values.json) {
      output.out(`${JSON.stringify(created)}\n`)
    } else {
      output.out(
        `Created project ${created.project_id} in ${database}.\n\n` +
          `  admin key:    ${created.admin_key}\n  metering key: ${created.metering_key}\n\n` +
          'These keys are shown once and stored only as hashes. Give the metering key to your app:\n' +
          `  CREDLY_PROJECT_ID=${created.project_id} CREDLY_API_KEY=<metering key>\n`,
      )
    }
    return 0
  } finally {
    await store.close()
  }
}
