/** UTC calendar arithmetic shared by the engine and the stores (usage totals are kept per week). */

export const DAY_MS = 86_400_000
export const WEEK_MS = 7 * DAY_MS
/** 1970-01-05, the first Monday after the epoch (a Thursday). */
const FIRST_MONDAY = 4 * DAY_MS

/** The Monday (00:00 UTC) that starts the week of a time. */
export function weekStart(time: number): number {
  return Math.floor((time - FIRST_MONDAY) / WEEK_MS) * WEEK_MS + FIRST_MONDAY
}
