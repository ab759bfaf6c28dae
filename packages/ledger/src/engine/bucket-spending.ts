import type { Account, HoldPart, JournalKind } from '../stores/store.ts'
import type { Book } from './book.ts'

/**
 * Takes up to `amount` from the user's buckets, soonest-expiring first, into `to`. Returns the
 * slices taken and what the buckets could not cover.
 */
export async function spendFromBuckets(
  book: Book,
  amount: number,
  to: Account,
  kind: JournalKind,
  transactionId: string | null,
  memo: Record<string, unknown> | null = null,
): Promise<{ parts: HoldPart[]; uncovered: number }> {
  const parts: HoldPart[] = []
  let left = amount
  for (const bucket of await book.spendableBuckets()) {
    if (left === 0) break
    const take = Math.min(bucket.remaining, left)
    if (take === 0) continue
    book.move(kind, take, `bucket:${bucket.id}`, to, transactionId, memo)
    parts.push({ bucket_id: bucket.id, amount: take })
    left -= take
  }
  return { parts, uncovered: left }
}

/** Expires what is left in every bucket whose expiry has passed. */
export async function expireBuckets(book: Book): Promise<void> {
  for (const bucket of await book.bucketsWithCredits()) {
    if (book.isExpired(bucket)) {
      book.move('expire', bucket.remaining, `bucket:${bucket.id}`, 'expired', null, {
        expired_at: bucket.expires_at,
        bucket_kind: bucket.kind,
      })
    }
  }
}

/**
 * Gives a slice of a hold back to the bucket it came from: released if the bucket is still
 * valid (and then used to repay any debt), expired if the bucket expired meanwhile.
 */
export async function returnHoldPart(
  book: Book,
  part: HoldPart,
  amount: number,
  transactionId: string,
): Promise<void> {
  if (amount <= 0) return
  if (part.bucket_id === null) {
    // Held on the overdraft: what was not charged is no longer owed.
    book.move('release', amount, `hold:${transactionId}`, 'debt', transactionId)
    return
  }
  const bucket = await book.bucket(part.bucket_id)
  if (book.isExpired(bucket)) {
    book.move('expire', amount, `hold:${transactionId}`, 'expired', transactionId, {
      expired_at: bucket.expires_at,
      bucket_id: bucket.id,
    })
    return
  }
  book.move('release', amount, `hold:${transactionId}`, `bucket:${bucket.id}`, transactionId)
  await book.repayDebtFrom(bucket)
}
