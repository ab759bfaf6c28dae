import {
  CredlyApiError,
  parseOrThrow,
  type UsageDimension,
  type UsageFigures,
  type UsageGroup,
  type UsageQuery,
  type UsageReport,
  usageGroupField,
  usageQuerySchema,
} from 'credly/internal'
import { DAY_MS as DAY, WEEK_MS as WEEK, weekStart } from '../calendar.ts'
import { sumToCredits as credits } from '../money.ts'
import type { StoreReader, UsageSums } from '../stores/store.ts'

const HOUR = 3_600_000

/**
 * A project's usage over a time range from the ledger's own records (transactions and refused
 * starts): calls, credits charged and refunded, tokens by kind and refusals, grouped by time
 * buckets (UTC) and dimensions.
 */
export async function usageReport(
  tx: StoreReader,
  projectId: string,
  query: UsageQuery,
  now: number,
): Promise<UsageReport> {
  const { input, from, to, groupBy } = parseUsageQuery(query, now)
  const sums = await tx.usageReport({
    project_id: projectId,
    from,
    to,
    group_by: groupBy,
    user_id: input.user_id,
    model: input.model,
    feature_identifier: input.feature_identifier,
  })
  const data = sums.map((group) => toGroup(group, groupBy)).sort(byKey(groupBy))
  return {
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    group_by: groupBy,
    data,
    totals: figures(addUp(sums)),
  }
}

/** A usage query, validated, with its range in ms and its dimensions (the interval first). */
function parseUsageQuery(query: UsageQuery, now: number) {
  const input = parseOrThrow(usageQuerySchema, query, 'getUsage query')
  // Without `to`, up to and including now (the end of a range is exclusive).
  const to = input.to === undefined ? now + 1 : Date.parse(input.to)
  const from = input.from === undefined ? to - 30 * DAY : Date.parse(input.from)
  if (from >= to) {
    throw CredlyApiError.fromKind(
      'validation-error',
      `The report's range is empty: from (${new Date(from).toISOString()}) must be before to (${new Date(to).toISOString()}).`,
      { errors: [{ path: 'from', message: 'must be before to' }] },
    )
  }
  const groupBy = [
    ...new Set([...(input.interval ? [input.interval] : []), ...(input.group_by ?? [])]),
  ]
  return { input, from, to, groupBy }
}

/**
 * The whole days of a report that totals can serve and that can no longer change (they ended an
 * hour ago or more, so no server's clock still writes into them): for a report by user alone,
 * the days of its whole weeks (week totals keep only the user); empty for a report of one user
 * (its index reads it quickly) or by hour (no totals keep hours).
 */
export function daysToSummarize(query: UsageQuery, now: number): { from: number; to: number } {
  const { input, from, to, groupBy } = parseUsageQuery(query, now)
  const end = Math.min(to, now - HOUR)
  if (input.user_id !== undefined || groupBy.includes('hour')) return { from: 0, to: 0 }
  if (groupBy.includes('user')) {
    const byUserAlone =
      groupBy.length === 1 && input.model === undefined && input.feature_identifier === undefined
    if (!byUserAlone) return { from: 0, to: 0 }
    const weeks = { from: weekStart(from + WEEK - 1), to: weekStart(end) }
    return weeks.from < weeks.to ? weeks : { from: 0, to: 0 }
  }
  return { from: Math.ceil(from / DAY) * DAY, to: Math.floor(end / DAY) * DAY }
}

function toGroup(sums: UsageSums, groupBy: UsageDimension[]): UsageGroup {
  const group: UsageGroup = figures(sums)
  for (const dimension of groupBy) {
    const value = sums.key[dimension] ?? null
    if (dimension === 'day') group.day = new Date(Number(value)).toISOString().slice(0, 10)
    else if (dimension === 'hour') group.hour = new Date(Number(value)).toISOString()
    else Object.assign(group, { [usageGroupField[dimension]]: value })
  }
  return group
}

function figures(sums: Omit<UsageSums, 'key'>): UsageFigures {
  const tokens = (value: bigint) => Number(value)
  return {
    calls: sums.calls,
    credits_charged: credits(sums.charged),
    credits_refunded: credits(sums.refunded),
    tokens: {
      input: tokens(sums.tokens.input),
      cached_input: tokens(sums.tokens.cached_input),
      cache_write: tokens(sums.tokens.cache_write),
      output: tokens(sums.tokens.output),
      reasoning: tokens(sums.tokens.reasoning),
    },
    refusals: { ...sums.refused },
  }
}

function addUp(groups: UsageSums[]): Omit<UsageSums, 'key'> {
  const total: Omit<UsageSums, 'key'> = {
    calls: 0,
    charged: 0n,
    refunded: 0n,
    tokens: { input: 0n, cached_input: 0n, cache_write: 0n, output: 0n, reasoning: 0n },
    refused: { insufficient_credits: 0, rate_limited: 0 },
  }
  for (const group of groups) {
    total.calls += group.calls
    total.charged += group.charged
    total.refunded += group.refunded
    for (const kind of Object.keys(total.tokens) as Array<keyof UsageSums['tokens']>)
      total.tokens[kind] += group.tokens[kind]
    total.refused.insufficient_credits += group.refused.insufficient_credits
    total.refused.rate_limited += group.refused.rate_limited
  }
  return total
}

/** Time buckets in order, then each dimension's value (nulls first). */
function byKey(groupBy: UsageDimension[]) {
  return (a: UsageGroup, b: UsageGroup): number => {
    for (const dimension of groupBy) {
      const field = usageGroupField[dimension]
      const left = (a[field] ?? '') as string
      const right = (b[field] ?? '') as string
      if (left !== right) return left < right ? -1 : 1
    }
    return 0
  }
}
