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
  /**
   * Called when a job, or the whole batch (a rollback), was undone: the writer drops what it
   * remembers of rows, which its writes changed in place.
   */
  undone(): void
  /** Marks where the next job's writes begin. */
  mark(): void
  /**
   * After a job threw `error`: drops the writes made since the mark and says whether that undid
   * the job. It cannot when one of them reached the database (or the database itself failed, and
   * PostgreSQL then aborts the transaction): only a rollback of the batch undoes those.
   */
  discard(error: unknown): boolean
  release(): void
}

/**
 * Group commit, the same for every SQL store: runs the jobs in one transaction, commits, and only
 * then answers each caller. No savepoints (a round trip each on PostgreSQL; on SQLite a copy of
 * every page a job first touches), since jobs rarely fail after writing: a job that fails before
 * any of its writes reached the database is undone by dropping them; otherwise the batch is undone
 * and each job runs again in a transaction of its own, so that only it fails. A transient failure
 * (a busy database, a serialization failure) rolls the whole batch back and runs it again after a
 * backoff. Either way a job may run twice, so it must be safe to.
 */
export async function commitBatch<W>(
  batch: Array<BatchJob<W>>,
  /** A connection for the `attempt`th try at the batch (1 first). */
  connect: (attempt: number) => Promise<BatchConnection<W>>,
  options: {
    begin: string
    retryable: (error: unknown) => boolean
    maxAttempts: number
    /** How long to wait before the next attempt, after `error` failed this one. */
    backoffMs: (attempt: number, error: unknown) => number
    stats: StoreStats
  },
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    let connection: BatchConnection<W>
    try {
      connection = await connect(attempt)
    } catch (error) {
      for (const job of batch) job.reject(error)
      return
    }
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = []
    // A job alone fails with its transaction: nothing to keep.
    const alone = batch.length === 1
    try {
      await connection.exec(options.begin)
      for (const job of batch) {
        connection.mark()
        try {
          const value = await job.work(connection.writer)
          outcomes.push({ ok: true, value })
        } catch (error) {
          if (alone || options.retryable(error) || !connection.discard(error)) throw error
          connection.undone()
          outcomes.push({ ok: false, error })
        }
      }
      await connection.exec('COMMIT')
    } catch (error) {
      // Nothing to roll back when BEGIN itself failed; SQLite and PostgreSQL both say so harmlessly.
      await connection.exec('ROLLBACK').catch(() => undefined)
      connection.undone()
      connection.release()
      if (options.retryable(error) && attempt < options.maxAttempts) {
        options.stats.retries++
        await new Promise((resolve) => setTimeout(resolve, options.backoffMs(attempt, error)))
        continue
      }
      if (!alone) {
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
