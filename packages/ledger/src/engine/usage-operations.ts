import {
  type CompleteUsageResponse,
  type CredlyApiError,
  completeUsageRequestSchema,
  extendUsageRequestSchema,
  parseOrThrow,
  problemSlug,
  startUsageRequestSchema,
  type Transaction,
} from 'credly/internal'
import type { TransactionRow } from '../stores/store.ts'
import { requestHash } from './idempotency.ts'
import type { Ledger } from './ledger.ts'
import { notPending, reserve, settle } from './reservations.ts'
import { type Outcome, transactionNotFound, transactionOf, type Units, unwrap } from './units.ts'
import { toTransaction } from './wire.ts'

/** Two-phase usage: start (reserve), complete (settle) and extend a reservation. */
export function usageOperations(
  units: Units,
): Pick<Ledger, 'startUsage' | 'completeUsage' | 'extendUsage'> {
  const { withUser, writeOnce, rememberTransactionUser, transactionUserOf, forgetTransactionUser } =
    units
  return {
    async startUsage(projectId, request, writeOptions = {}) {
      const input = parseOrThrow(startUsageRequestSchema, request, 'startUsageTransaction request')
      const started = await writeOnce(
        {
          projectId,
          userId: input.user_id,
          operation: 'start',
          key: writeOptions.idempotencyKey,
          request: input,
        },
        async (tx) =>
          (await withUser(projectId, input.user_id, (book) => reserve(book, input), tx)).result,
      )
      rememberTransactionUser(started.transaction_id, input.user_id)
      return started
    },

    async completeUsage(projectId, request, writeOptions = {}) {
      const { transaction_id: transactionId, ...input } = parseOrThrow(
        completeUsageRequestSchema,
        request,
        'completeUsageTransaction request',
      )
      const hash = requestHash({ ...input, estimated: input.estimated ?? false })
      const replayOrConflict = (transaction: TransactionRow): Outcome<CompleteUsageResponse> =>
        transaction.complete_hash === hash
          ? { ok: transaction.complete_result as CompleteUsageResponse }
          : { conflict: notPending(transaction).detail as string }
      const startedBy = transactionUserOf(transactionId)
      const outcome = await writeOnce(
        {
          projectId,
          userId: startedBy,
          transactionId,
          operation: 'complete',
          key: writeOptions.idempotencyKey,
          request: { transaction_id: transactionId, ...input },
        },
        async (tx): Promise<Outcome<CompleteUsageResponse>> => {
          const settleLocked = async (userId: string) =>
            (
              await withUser(
                projectId,
                userId,
                async (book) => {
                  // Read (again) under the user's lock: every change to a transaction holds it,
                  // and an expiry settled just now by settleDue is committed and then reported.
                  const current = await tx.getTransaction(projectId, transactionId)
                  if (current?.user_id !== userId) throw transactionNotFound(transactionId)
                  if (current.status !== 'pending') return replayOrConflict(current)
                  return { ok: await settle(book, current, input, hash) }
                },
                tx,
                transactionId,
              )
            ).result
          // Started here: lock its user at once, reading the transaction with the lock (one
          // read fewer). A user deleted since is answered as below, from the transaction alone.
          if (startedBy !== undefined) {
            const settled = await settleLocked(startedBy).catch((error: unknown) => {
              if (problemSlug((error as CredlyApiError).type) === 'user-not-found') return undefined
              throw error
            })
            if (settled) return settled
          }
          const transaction = await transactionOf(tx, projectId, transactionId)
          // A resolved transaction never changes again, so it needs no lock to answer.
          if (transaction.status !== 'pending') return replayOrConflict(transaction)
          return settleLocked(transaction.user_id)
        },
      )
      forgetTransactionUser(transactionId)
      return unwrap(outcome)
    },

    async extendUsage(projectId, request, writeOptions = {}) {
      const input = parseOrThrow(
        extendUsageRequestSchema,
        request,
        'extendUsageTransaction request',
      )
      const outcome = await writeOnce(
        {
          projectId,
          userId: transactionUserOf(input.transaction_id),
          transactionId: input.transaction_id,
          operation: 'extend',
          key: writeOptions.idempotencyKey,
          request: input,
        },
        async (tx): Promise<Outcome<Transaction>> => {
          const transaction = await transactionOf(tx, projectId, input.transaction_id)
          if (transaction.status !== 'pending')
            return { conflict: notPending(transaction).detail as string }
          const { result } = await withUser(
            projectId,
            transaction.user_id,
            async (book, project) => {
              const current = (await tx.getTransaction(
                projectId,
                input.transaction_id,
              )) as TransactionRow
              if (current.status !== 'pending')
                return { conflict: notPending(current).detail as string }
              const ttl = input.ttl_seconds ?? project.config.reservations.ttl_seconds
              const extended = { ...current, expires_at: book.now + ttl * 1000 }
              await tx.updateTransaction(extended)
              return { ok: toTransaction(extended) }
            },
            tx,
            input.transaction_id,
          )
          return result
        },
      )
      return unwrap(outcome)
    },
  }
}
