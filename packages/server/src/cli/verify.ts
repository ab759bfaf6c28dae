import type { Ledger } from '@credly/ledger'

import {
  databaseOption,
  describeError,
  type Output,
  openLedger,
  parse,
  projectOption,
  redact,
} from './shared.ts'

/** `credly verify`: every balance recomputed from the journal; exit 1 on any difference. */
export async function verifyCommand(args: string[], output: Output): Promise<number> {
  const { values } = parse(args, { json: { type: 'boolean' }, ...databaseOption, ...projectOption })
  const { ledger, store } = openLedger(values.database)
  try {
    const projects =
      values.project === undefined
        ? (await ledger.listProjects()).map((project) => project.id)
        : [values.project]
    let ok = true
    for (const projectId of projects) {
      let report: Awaited<ReturnType<Ledger['verify']>>
      try {
        report = await ledger.verify(projectId)
      } catch (error) {
        // One unreadable project must not hide the state of the others.
        ok = false
        const message = describeError(error)
        output.out(
          values.json
            ? `${JSON.stringify({ ok: false, project_id: projectId, error: message })}\n`
            : `${projectId}: could not be verified: ${message}\n`,
        )
        continue
      }
      ok &&= report.ok
      if (values.json) {
        output.out(`${JSON.stringify(report)}\n`)
        continue
      }
      const { totals, checked } = report
      output.out(
        `${projectId}: ${report.ok ? 'ok' : `${report.differences.length} difference(s)`} ` +
          `(${checked.users} users, ${checked.transactions} transactions, ${checked.journal_entries} journal entries; ` +
          `granted ${totals.granted} = available ${totals.available} + held ${totals.held} + spent ${totals.spent} + expired ${totals.expired})\n`,
      )
      for (const difference of report.differences) {
        output.out(
          `  ${difference.subject} ${difference.id}: ${difference.message}${difference.expected === undefined ? '' : ` (journal ${difference.expected}, stored ${difference.actual})`}\n`,
        )
      }
    }
    return ok ? 0 : 1
  } finally {
    await store.close()
  }
}

/** `credly migrate`: the schema brought up to date. */
export async function migrateCommand(args: string[], output: Output): Promise<number> {
  const { values } = parse(args, databaseOption)
  const { store, database } = openLedger(values.database)
  try {
    await store.ready()
    output.out(`${redact(database)}: schema is current (${store.kind})\n`)
    return 0
  } finally {
    await store.close()
  }
}
