import { WEEK_MS as WEEK, weekStart } from '../calendar.ts'
import type { Ledger } from './ledger.ts'
import type { Units } from './units.ts'
import { daysToSummarize } from './usage-report.ts'

/** Settling what fell due ahead of time (every access does it lazily anyway). */
export function sweeperOperations(
  units: Units,
  idempotencyTtlMs: number,
): Pick<Ledger, 'sweep' | 'startSweeper'> {
  const { store, clock, withUser } = units
  const operations: Pick<Ledger, 'sweep' | 'startSweeper'> = {
    async sweep(sweepOptions = {}) {
      const due = await store.read((tx) => tx.listDueUsers(clock.now(), sweepOptions.limit ?? 1000))
      // Concurrent writes share commits (group commit), so a large sweep stays cheap.
      await Promise.all(
        due.map(({ project_id: projectId, user_id: userId }) =>
          store.write((tx) => withUser(projectId, userId, async () => undefined, tx), {
            user: { projectId, userId },
          }),
        ),
      )
      const keys = await store.write((tx) => tx.pruneIdempotency(clock.now() - idempotencyTtlMs))
      // The past week's days that ended, as a report over them would write their totals, and
      // the user totals of the last whole week once its days are.
      const days = daysToSummarize(
        { from: new Date(weekStart(clock.now() - WEEK)).toISOString() },
        clock.now(),
      )
      const usage = { days: 0, weeks: 0 }
      for (const project of await store.read((tx) => tx.listProjects())) {
        const summarized = await store.write((tx) =>
          tx.summarizeUsageDays(project.id, days.from, days.to),
        )
        usage.days += summarized.days
        usage.weeks += summarized.weeks
      }
      return {
        users: due.length,
        idempotency_keys: keys,
        usage_days: usage.days,
        usage_weeks: usage.weeks,
      }
    },

    startSweeper(sweeperOptions = {}) {
      let running = false
      const timer = setInterval(() => {
        if (running) return
        running = true
        operations
          .sweep()
          .catch((error: unknown) => sweeperOptions.onError?.(error))
          .finally(() => {
            running = false
          })
      }, sweeperOptions.intervalMs ?? 60_000)
      timer.unref()
      return () => clearInterval(timer)
    },
  }
  return operations
}
