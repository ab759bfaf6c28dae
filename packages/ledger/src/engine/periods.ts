import type { RefillPeriod } from 'credly'

const DAY = 86_400_000

/**
 * The start of period `index` counted from `anchor` (index 0 is the anchor itself), in UTC.
 * Months are counted from the anchor, not chained, so a user who joined on Jan 31 refills on
 * Feb 28 (or 29), then Mar 31: the day is clamped to the month's length and never drifts.
 */
export function periodStart(
  anchor: number,
  every: Exclude<RefillPeriod, 'none'>,
  index: number,
): number {
  if (every === 'day') return anchor + index * DAY
  if (every === 'week') return anchor + index * 7 * DAY
  const date = new Date(anchor)
  const monthIndex = date.getUTCMonth() + index
  const year = date.getUTCFullYear() + Math.floor(monthIndex / 12)
  const month = ((monthIndex % 12) + 12) % 12
  const daysInMonth = new Date(Date.UTC(year, month + 1, 0)).getUTCDate()
  return Date.UTC(
    year,
    month,
    Math.min(date.getUTCDate(), daysInMonth),
    date.getUTCHours(),
    date.getUTCMinutes(),
    date.getUTCSeconds(),
    date.getUTCMilliseconds(),
  )
}

/** How many period boundaries after the anchor have passed by `now` (0 before the first). */
export function periodsElapsed(
  anchor: number,
  every: Exclude<RefillPeriod, 'none'>,
  now: number,
): number {
  if (now < anchor) return 0
  if (every === 'day') return Math.floor((now - anchor) / DAY)
  if (every === 'week') return Math.floor((now - anchor) / (7 * DAY))
  // Estimate from the calendar, then correct for the clamped day and time of day.
  const from = new Date(anchor)
  const to = new Date(now)
  let index =
    (to.getUTCFullYear() - from.getUTCFullYear()) * 12 + (to.getUTCMonth() - from.getUTCMonth())
  while (index > 0 && periodStart(anchor, every, index) > now) index--
  while (periodStart(anchor, every, index + 1) <= now) index++
  return Math.max(0, index)
}

/** Milliseconds in a credit rate-limit window. */
export function windowMs(per: 'minute' | 'hour' | 'day'): number {
  return per === 'minute' ? 60_000 : per === 'hour' ? 3_600_000 : DAY
}
