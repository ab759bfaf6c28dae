import { z } from 'zod'
import {
  creditsSchema,
  featureIdentifierSchema,
  modelIdSchema,
  timestampSchema,
  userIdSchema,
} from './common.ts'

/** What a usage report can be grouped by: a time bucket (UTC) or a dimension. */
export const usageDimensionSchema = z.enum(['day', 'hour', 'model', 'feature', 'user', 'tier'])
export type UsageDimension = z.infer<typeof usageDimensionSchema>

/** `group_by` as an array, or as a query string sends it: `day,model`. */
const groupBySchema = z.union([
  z.array(usageDimensionSchema).max(6),
  z
    .string()
    .max(100)
    .transform((value) => (value === '' ? [] : value.split(',').map((part) => part.trim())))
    .pipe(z.array(usageDimensionSchema).max(6)),
])

/** Filters and grouping of `getUsage`. */
export const usageQuerySchema = z
  .object({
    /** From this time (inclusive). @default 30 days before `to` */
    from: timestampSchema.optional(),
    /** To this time (exclusive). @default now (included) */
    to: timestampSchema.optional(),
    /** Dimensions to group by, e.g. `['day', 'model']`; none gives one total. */
    group_by: groupBySchema.optional(),
    /** A time bucket to group by as well (the same as adding it to `group_by`). */
    interval: z.enum(['hour', 'day']).optional(),
    user_id: userIdSchema.optional(),
    model: modelIdSchema.optional(),
    feature_identifier: featureIdentifierSchema.optional(),
  })
  .strict()
export type UsageQuery = z.input<typeof usageQuerySchema>

const count = z.number().int().nonnegative()

/** What a group (or the whole report) adds up to. */
export const usageFiguresSchema = z.object({
  /** Model calls started (every transaction, settled or not). */
  calls: count,
  /** Credits charged. */
  credits_charged: creditsSchema,
  /** Credits reserved and given back when calls used less than reserved. */
  credits_refunded: creditsSchema,
  /** Finalized tokens by kind (`input` includes the cached and cache-write ones). */
  tokens: z.object({
    input: count,
    cached_input: count,
    cache_write: count,
    output: count,
    reasoning: count,
  }),
  /** Starts refused, by reason. */
  refusals: z.object({ insufficient_credits: count, rate_limited: count }),
})
export type UsageFigures = z.infer<typeof usageFiguresSchema>

/** One group of a report: its dimensions' values (only those grouped by) and its figures. */
export const usageGroupSchema = usageFiguresSchema.extend({
  /** For `day`: the UTC day, e.g. `2026-11-25`. */
  day: z.string().optional(),
  /** For `hour`: the hour's start, e.g. `2026-11-25T13:00:00.000Z`. */
  hour: timestampSchema.optional(),
  model: z.string().nullable().optional(),
  feature_identifier: z.string().nullable().optional(),
  user_id: z.string().nullable().optional(),
  tier_id: z.string().nullable().optional(),
})
export type UsageGroup = z.infer<typeof usageGroupSchema>

/** The field of a group that holds each dimension's value. */
export const usageGroupField = {
  day: 'day',
  hour: 'hour',
  model: 'model',
  feature: 'feature_identifier',
  user: 'user_id',
  tier: 'tier_id',
} as const satisfies Record<UsageDimension, keyof UsageGroup>

/** Result of `getUsage`. */
export const usageReportSchema = z.object({
  from: timestampSchema,
  to: timestampSchema,
  group_by: z.array(usageDimensionSchema),
  /** The groups, in time order, then by dimension value. */
  data: z.array(usageGroupSchema),
  totals: usageFiguresSchema,
})
export type UsageReport = z.infer<typeof usageReportSchema>
