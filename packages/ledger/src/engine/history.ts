import {
  listTransactionsQuerySchema,
  NotFoundError,
  parseOrThrow,
  transactionIdSchema,
} from 'credly/internal'
import { WEEK_MS as WEEK } from '../calendar.ts'
import type { TransactionRow } from '../stores/store.ts'
import type { Ledger } from './ledger.ts'
import { badCursor, transactionNotFound, type Units } from './units.ts'
import { daysToSummarize, usageReport } from './usage-report.ts'
import { decodeCursor, encodeCursor, toTransaction } from './wire.ts'

/** What happened: transactions, one or a page, and usage reports. */
export function historyOperations(
  units: Units,
): Pick<Ledger, 'getTransaction' | 'listTransactions' | 'getUsage'> {
  const { store, clock, loadProject, currentUser } = units
  return {
    async getTransaction(projectId, transactionId) {
      const id = parseOrThrow(
        transactionIdSchema,
        transactionId,
        'transaction_id',
        'transaction_id',
      )
      const row = await store.read((tx) => tx.getTransaction(projectId, id))
      if (!row) throw transactionNotFound(id)
      if (row.status === 'pending' && row.expires_at !== null && row.expires_at <= clock.now()) {
        // Resolve it now, so a read never shows a reservation past its expiry as pending. A
        // deleted user's holds were released when it was deleted; any other failure is real.
        await currentUser(projectId, row.user_id).catch((error: unknown) => {
          if (!NotFoundError.isInstance(error)) throw error
        })
        return toTransaction(
          (await store.read((tx) => tx.getTransaction(projectId, id))) as TransactionRow,
        )
      }
      return toTransaction(row)
    },

    async listTransactions(projectId, query = {}) {
      const input = parseOrThrow(listTransactionsQuerySchema, query, 'getTransactions query')
      const limit = input.limit ?? 20
      let before: { created_at: number; id: string } | undefined
      if (input.cursor !== undefined) {
        const parts = decodeCursor(input.cursor)
        if (!parts || typeof parts[0] !== 'number' || typeof parts[1] !== 'string')
          throw badCursor()
        before = { created_at: parts[0], id: parts[1] }
      }
      const rows = await store.read(async (tx) => {
        await loadProject(tx, projectId)
        return tx.listTransactions({
          project_id: projectId,
          limit: limit + 1,
          before,
          user_id: input.user_id,
          status: input.status,
          model: input.model,
          feature_identifier: input.feature_identifier,
          created_after:
            input.created_after === undefined ? undefined : Date.parse(input.created_after),
          created_before:
            input.created_before === undefined ? undefined : Date.parse(input.created_before),
        })
      })
      const page = rows.slice(0, limit)
      const last = page[page.length - 1]
      return {
        data: page.map(toTransaction),
        has_more: rows.length > limit,
        next_cursor: rows.length > limit && last ? encodeCursor([last.created_at, last.id]) : null,
      }
    },

    async getUsage(projectId, query = {}) {
      const now = clock.now()
      await store.read((tx) => loadProject(tx, projectId))
      // Days that ended are summarized once (and, for a report by user, their weeks), a week
      // per write, so a long report adds up totals and no write waits long behind it.
      const days = daysToSummarize(query, now)
      for (let from = days.from; from < days.to; from += WEEK) {
        const to = Math.min(days.to, from + WEEK)
        await store.write((tx) => tx.summarizeUsageDays(projectId, from, to))
      }
      return store.read((tx) => usageReport(tx, projectId, query, now))
    },
  }
}
