import { CredlyApiError, type ProjectConfig, parseOrThrow, userIdSchema } from 'credly/internal'
import type { Clock } from '../clock.ts'
import type { ProjectRow, Store, StoreWriter, TransactionRow, UserRow } from '../stores/store.ts'
import { projectNotFound } from './api-keys.ts'
import { Book } from './book.ts'
import { once } from './idempotency.ts'
import type { Project } from './ledger.ts'
import { settleDue } from './reservations.ts'

/**
 * What every ledger operation builds on: the store and the clock, and the units of work they run
 * in (a locked, up-to-date user; exactly-once writes batched by user; reads that settle what fell
 * due).
 */
export type Units = ReturnType<typeof createUnits>

export function createUnits(store: Store, clock: Clock) {
  async function loadProject(
    tx: { getProject(id: string): Promise<ProjectRow | undefined> },
    projectId: string,
  ) {
    const project = await tx.getProject(projectId)
    if (!project) throw projectNotFound(projectId)
    return project
  }

  /** Runs `work` on a locked, up-to-date user; writes everything it did. */
  async function withUser<T>(
    projectId: string,
    userId: string,
    work: (book: Book, project: ProjectRow) => Promise<T>,
    tx: StoreWriter,
    /** The transaction `work` reads first, which the store may fetch with the lock. */
    transactionId?: string,
  ): Promise<{ result: T; user: UserRow; project: ProjectRow }> {
    // The lock first: a store may read the project (and the user's buckets) in its round trip.
    const user = await tx.lockUser(projectId, userId, { transactionId })
    const project = await loadProject(tx, projectId)
    if (!user) throw userNotFound(userId)
    const book = new Book(tx, project.config, user, clock.now())
    await settleDue(book)
    const result = await work(book, project)
    return { result, user: await book.flush(), project }
  }

  /**
   * One write unit for one user, exactly-once per idempotency key (see `once`). Units of the
   * same user share a batch key, so a hot user's operations share commits instead of queueing
   * on the user's row lock.
   */
  function writeOnce<T>(
    scope: {
      projectId: string
      userId: string | undefined
      /** The transaction the unit reads under the user's lock, if any. */
      transactionId?: string
      operation: string
      key: string | undefined
      request: unknown
    },
    work: (tx: StoreWriter) => Promise<T>,
  ): Promise<T> {
    const { projectId, userId, transactionId } = scope
    return store.write((tx) => once(tx, { ...scope, now: clock.now() }, () => work(tx)), {
      user: userId === undefined ? undefined : { projectId, userId, transactionId },
    })
  }

  /**
   * Which user each pending transaction this process started belongs to, so its complete can lock
   * that user (and join their batch) without reading the transaction first. A hint only (the
   * transaction read under the lock decides): bounded, and a miss (another instance started it,
   * or it is old) just costs that read.
   */
  const transactionUsers = new Map<string, string>()
  const rememberTransactionUser = (transactionId: string | null, userId: string) => {
    if (transactionId === null) return
    transactionUsers.set(transactionId, userId)
    if (transactionUsers.size > 10_000)
      transactionUsers.delete(transactionUsers.keys().next().value as string)
  }

  /** Reads a user, bringing them up to date first if a refill or expiry is due. */
  async function currentUser(
    projectId: string,
    userId: string,
  ): Promise<{ user: UserRow; config: ProjectConfig }> {
    const id = parseOrThrow(userIdSchema, userId, 'user_id', 'user_id')
    const snapshot = await store.read(async (tx) => ({
      project: await loadProject(tx, projectId),
      user: await tx.getUser(projectId, id),
    }))
    if (!snapshot.user) throw userNotFound(id)
    if (snapshot.user.next_event_at === null || snapshot.user.next_event_at > clock.now()) {
      return { user: snapshot.user, config: snapshot.project.config }
    }
    return store.write(
      async (tx) => {
        const { user, project } = await withUser(projectId, id, async () => undefined, tx)
        return { user, config: project.config }
      },
      { user: { projectId, userId: id } },
    )
  }

  return {
    store,
    clock,
    loadProject,
    withUser,
    writeOnce,
    currentUser,
    rememberTransactionUser,
    /** The user a transaction this process started belongs to, if it remembers. */
    transactionUserOf: (transactionId: string) => transactionUsers.get(transactionId),
    forgetTransactionUser: (transactionId: string) => void transactionUsers.delete(transactionId),
  }
}

/**
 * What a write that may find its transaction already resolved returns: the conflict is data, so
 * the unit still commits (an expiry it settled stays settled) and a replayed key answers the same.
 */
export type Outcome<T> = { ok: T } | { conflict: string }

export function unwrap<T>(outcome: Outcome<T>): T {
  if ('ok' in outcome) return outcome.ok
  throw CredlyApiError.fromKind('transaction-conflict', outcome.conflict)
}

export async function transactionOf(
  tx: StoreWriter,
  projectId: string,
  transactionId: string,
): Promise<TransactionRow> {
  const transaction = await tx.getTransaction(projectId, transactionId)
  if (!transaction) throw transactionNotFound(transactionId)
  return transaction
}

export function toProject(row: ProjectRow): Project {
  return { id: row.id, config: row.config, created_at: new Date(row.created_at).toISOString() }
}

export function userNotFound(userId: string): CredlyApiError {
  return CredlyApiError.fromKind(
    'user-not-found',
    `No user "${userId}" in this project. Create it with createUser (captureUsage does so by itself).`,
  )
}

export function transactionNotFound(transactionId: string): CredlyApiError {
  return CredlyApiError.fromKind(
    'transaction-not-found',
    `No transaction "${transactionId}" in this project.`,
  )
}

export function badCursor(): CredlyApiError {
  return CredlyApiError.fromKind(
    'validation-error',
    'The cursor is not one this server gave out. Pass back next_cursor unchanged.',
    { errors: [{ path: 'cursor', message: 'unknown cursor' }] },
  )
}
