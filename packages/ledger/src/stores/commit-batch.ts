import type { StoreStats } from './store.ts'

/** One queued unit of work and how to answer its caller. */
export type BatchJob<W> = {
  work: (tx: W) => Promise<unknown>
  resolve: (value: unknown) => void
  reject: (error: unknown) => void
}

/** A connection for one attempt at a batch. */
export type BatchConnection<W> = {
  writer: W
  exec(sql: string): Promise<void>
  /** Called when a job was undone: the writer drops what it remembers of rows it read. */
  undone?(): void
  /** Without savepoints: marks where the next job's writes begin. */
  mark?(): void
  /**
   * Without savepoints, after a job threw `error`: drops the writes made since the mark and says
   * whether that undid the job. It cannot when one of them was sent, or when the database itself
   * failed (the transaction is then aborted): only a rollback of the batch undoes those.
   */
  discard?(error: unknown): boolean
  release(): void
}

/**
 * Group commit, the same for every SQL store: runs the jobs in one transaction, commits, and only
 * then answers each caller. With `savepoints`, each job runs in its own savepoint, so a job that
 * fails is undone alone. Without, no round trip is spent on savepoints: a job that fails before
 * any of its writes was sent is undone by dropping them; otherwise the batch is undone and each
 * job runs again in a transaction of its own. A transient failure (a busy database, a
 * serialization failure) rolls the whole batch back and runs it again after a backoff, which is
 * why a job must be safe to run twice.
 */
export async function commitBatch<W>(
  batch: Array<BatchJob<W>>,
  connect: () => Promise<BatchConnection<W>>,
  options: {
    begin: string
    savepoints: boolean
    retryable: (error: unknown) => boolean
    maxAttempts: number
    backoffMs: (attempt: number) => number
    stats: StoreStats
  },
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    let connection: BatchConnection<W>
    try {
      connection = await connect()
    } catch (error) {
      for (const job of batch) job.reject(error)
      return
    }
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = []
    // A job alone needs no savepoint: its failure rolls back the whole unit anyway. Otherwise
    // one savepoint is open at a time, released and reopened between jobs in one round trip.
    const alone = batch.length === 1
    const savepoints = options.savepoints && !alone
    try {
      await connection.exec(savepoints ? `${options.begin}; SAVEPOINT op` : options.begin)
      for (const [index, job] of batch.entries()) {
        const last = index === batch.length - 1
        if (!savepoints) connection.mark?.()
        try {
          // A store that defers writes (see `SqlExecutor.defer`) runs without savepoints: a job's
          // writes go with the COMMIT, where any failure undoes the batch anyway.
          const value = await job.work(connection.writer)
          outcomes.push({ ok: true, value })
          if (savepoints && !last) await connection.exec('RELEASE SAVEPOINT op; SAVEPOINT op')
        } catch (error) {
          if (alone || options.retryable(error)) throw error
          if (savepoints) {
            // Undoes the job; the savepoint stays open for the next one.
            await connection.exec('ROLLBACK TO SAVEPOINT op')
          } else if (!connection.discard?.(error)) {
            throw error
          }
          connection.undone?.()
          outcomes.push({ ok: false, error })
        }
      }
      await connection.exec('COMMIT')
    } catch (error) {
      // Nothing to roll back when BEGIN itself failed; SQLite and PostgreSQL both say so harmlessly.
      await connection.exec('ROLLBACK').catch(() => undefined)
      connection.release()
      if (options.retryable(error) && attempt < options.maxAttempts) {
        options.stats.retries++
        await new Promise((resolve) => setTimeout(resolve, options.backoffMs(attempt)))
        continue
      }
      if (!alone && !savepoints) {
        // Which job failed is not known: each runs alone, so that only it fails.
        for (const job of batch) await commitBatch([job], connect, options)
        return
      }
      for (const job of batch) job.reject(error)
      return
    }
    connection.release()
    options.stats.commits++
    options.stats.writes += outcomes.filter((outcome) => outcome.ok).length
    batch.forEach((job, index) => {
      const outcome = outcomes[index] as (typeof outcomes)[number]
      if (outcome.ok) job.resolve(outcome.value)
      else job.reject(outcome.error)
    })
    return
  }
}
