import {
  paginate,
  type Transaction,
  type TransactionStatus,
  type UsageDimension,
  type UsageGroup,
  usageGroupField,
} from 'credly/internal'

import {
  csv,
  databaseOption,
  type Output,
  parse,
  projectOption,
  table,
  withProject,
} from './shared.ts'

/** `credly usage`: a usage report as a table, JSON or CSV. */
export async function usageCommand(args: string[], output: Output): Promise<number> {
  const { values } = parse(args, {
    from: { type: 'string' },
    to: { type: 'string' },
    'group-by': { type: 'string' },
    interval: { type: 'string' },
    user: { type: 'string' },
    model: { type: 'string' },
    feature: { type: 'string' },
    json: { type: 'boolean' },
    csv: { type: 'boolean' },
    ...databaseOption,
    ...projectOption,
  })
  return withProject(values, async (ledger, projectId) => {
    const report = await ledger.getUsage(projectId, {
      from: values.from,
      to: values.to,
      group_by: values['group-by'],
      interval: values.interval as 'hour' | 'day' | undefined,
      user_id: values.user,
      model: values.model,
      feature_identifier: values.feature,
    })
    if (values.json) {
      output.out(`${JSON.stringify(report, null, 2)}\n`)
      return 0
    }
    const fields = usageColumns(report.group_by)
    const rows = [
      ...report.data,
      ...(report.data.length > 1 ? [{ ...report.totals, total: true }] : []),
    ]
    const cells = rows.map((row) =>
      fields.map(([, read]) => read(row as UsageGroup & { total?: boolean })),
    )
    const headings = fields.map(([heading]) => heading)
    if (values.csv) {
      output.out(csv([headings, ...cells]))
      return 0
    }
    output.out(`${report.from} to ${report.to}\n`)
    output.out(table(headings, cells))
    return 0
  })
}

/** `credly transactions`: the newest as a table, or every match exported as CSV or JSON lines. */
export async function transactionsCommand(args: string[], output: Output): Promise<number> {
  const { values } = parse(args, {
    user: { type: 'string' },
    model: { type: 'string' },
    feature: { type: 'string' },
    status: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    json: { type: 'boolean' },
    csv: { type: 'boolean' },
    ...databaseOption,
    ...projectOption,
  })
  return withProject(values, async (ledger, projectId) => {
    const query = {
      user_id: values.user,
      model: values.model,
      feature_identifier: values.feature,
      status: values.status as TransactionStatus | undefined,
      created_after: values.from,
      created_before: values.to,
    }
    const columns: Array<[string, (transaction: Transaction) => unknown]> = [
      ['id', (t) => t.id],
      ['created_at', (t) => t.created_at],
      ['user_id', (t) => t.user_id],
      ['model', (t) => t.model],
      ['feature_identifier', (t) => t.feature_identifier],
      ['status', (t) => t.status],
      ['credits_reserved', (t) => t.credits_reserved],
      ['credits_used', (t) => t.credits_used],
      ['input_tokens', (t) => t.finalized_tokens?.input_tokens],
      ['output_tokens', (t) => t.finalized_tokens?.output_tokens],
      ['estimated', (t) => t.estimated],
    ]
    const cells = (transaction: Transaction) =>
      columns.map(([, read]) => String(read(transaction) ?? ''))
    if (values.csv || values.json) {
      // An export: every matching transaction, a page at a time.
      if (values.csv) output.out(csv([columns.map(([name]) => name)]))
      for await (const transaction of paginate((page) => ledger.listTransactions(projectId, page), {
        ...query,
        limit: 100,
      })) {
        output.out(values.csv ? csv([cells(transaction)]) : `${JSON.stringify(transaction)}\n`)
      }
      return 0
    }
    const page = await ledger.listTransactions(projectId, { ...query, limit: 50 })
    output.out(
      table(
        columns.map(([name]) => name),
        page.data.map(cells),
      ),
    )
    if (page.next_cursor) output.out('(the newest 50; --csv or --json exports them all)\n')
    return 0
  })
}

/** The columns of a usage table or CSV: the dimensions grouped by, then the figures. */
export function usageColumns(
  groupBy: UsageDimension[],
): Array<[string, (row: UsageGroup & { total?: boolean }) => string]> {
  const dimension = usageGroupField
  return [
    ...groupBy.map((name, index): [string, (row: UsageGroup & { total?: boolean }) => string] => [
      dimension[name],
      (row) => (row.total ? (index === 0 ? 'total' : '') : String(row[dimension[name]] ?? '')),
    ]),
    ['calls', (row) => String(row.calls)],
    ['credits_charged', (row) => String(row.credits_charged)],
    ['credits_refunded', (row) => String(row.credits_refunded)],
    ['input_tokens', (row) => String(row.tokens.input)],
    ['cached_input_tokens', (row) => String(row.tokens.cached_input)],
    ['cache_write_tokens', (row) => String(row.tokens.cache_write)],
    ['output_tokens', (row) => String(row.tokens.output)],
    ['reasoning_tokens', (row) => String(row.tokens.reasoning)],
    ['refused_insufficient_credits', (row) => String(row.refusals.insufficient_credits)],
    ['refused_rate_limited', (row) => String(row.refusals.rate_limited)],
  ]
}
