import { toCredits } from '../money.ts'
import type { StoreReader } from '../stores/store.ts'

/** One place where the stored state and the journal disagree. */
export type VerifyDifference = {
  /** What disagrees: a user's aggregates, a bucket, a transaction, or the journal itself. */
  subject: 'user' | 'bucket' | 'transaction' | 'journal'
  id: string
  message: string
  /** What the journal says, in credits. */
  expected?: number
  /** What is stored, in credits. */
  actual?: number
}

/** What `verify()` found. `ok` is true when every stored balance matches the journal. */
export type VerifyReport = {
  ok: boolean
  project_id: string
  checked: { users: number; buckets: number; transactions: number; journal_entries: number }
  /** Conservation across the project: granted = available + held + spent + expired (credits). */
  totals: { granted: number; available: number; held: number; spent: number; expired: number }
  differences: VerifyDifference[]
}

const PAGE = 10_000

/**
 * Replays a project's journal into account balances and compares them with every stored
 * balance: each user's available and held credits, each bucket's remainder, each transaction's
 * hold and charge. Double entry makes the journal sum to zero by construction, so any drift
 * between what was recorded and what is stored shows up here.
 */
export async function verifyProject(tx: StoreReader, projectId: string): Promise<VerifyReport> {
  const differences: VerifyDifference[] = []
  const accounts = new Map<string, Map<string, number>>()
  const charges = new Map<string, number>()
  const userAccount = (userRef: string) => {
    let map = accounts.get(userRef)
    if (!map) {
      map = new Map()
      accounts.set(userRef, map)
    }
    return map
  }

  let entries = 0
  for (let after = 0; ; ) {
    const page = await tx.readJournal(projectId, after, PAGE)
    for (const entry of page) {
      entries++
      if (!Number.isSafeInteger(entry.amount) || entry.amount <= 0) {
        differences.push({
          subject: 'journal',
          id: String(entry.seq),
          message: `amount ${entry.amount} is not a positive integer`,
        })
      }
      const map = userAccount(entry.user_ref)
      map.set(entry.debit, (map.get(entry.debit) ?? 0) - entry.amount)
      map.set(entry.credit, (map.get(entry.credit) ?? 0) + entry.amount)
      if (entry.credit === 'spent' && entry.transaction_id) {
        charges.set(entry.transaction_id, (charges.get(entry.transaction_id) ?? 0) + entry.amount)
      }
      after = entry.seq
    }
    if (page.length < PAGE) break
  }

  const users = await tx.listAllUsers(projectId)
  const buckets = await tx.listAllBuckets(projectId)
  const transactions = await tx.listAllTransactions(projectId)
  const totals = { granted: 0, available: 0, held: 0, spent: 0, expired: 0 }

  for (const user of users) {
    const map = userAccount(user.ref)
    let available = 0
    let held = 0
    for (const [account, balance] of map) {
      if (account.startsWith('bucket:') || account === 'debt') available += balance
      else if (account.startsWith('hold:')) held += balance
    }
    const label = `${user.user_id} (${user.ref})`
    if (available !== user.available) {
      differences.push({
        subject: 'user',
        id: label,
        message: 'available credits differ from the journal',
        expected: toCredits(available),
        actual: toCredits(user.available),
      })
    }
    if (held !== user.held) {
      differences.push({
        subject: 'user',
        id: label,
        message: 'held credits differ from the journal',
        expected: toCredits(held),
        actual: toCredits(user.held),
      })
    }
    if ((map.get('debt') ?? 0) > 0) {
      differences.push({ subject: 'user', id: label, message: 'the debt account is positive' })
    }
    totals.granted -= map.get('world') ?? 0
    totals.available += user.available
    totals.held += user.held
    totals.spent += map.get('spent') ?? 0
    totals.expired += map.get('expired') ?? 0
  }

  for (const bucket of buckets) {
    const replayed = userAccount(bucket.user_ref).get(`bucket:${bucket.id}`) ?? 0
    if (
      replayed !== bucket.remaining ||
      bucket.remaining < 0 ||
      bucket.remaining > bucket.credits
    ) {
      differences.push({
        subject: 'bucket',
        id: bucket.id,
        message: 'remaining credits differ from the journal',
        expected: toCredits(replayed),
        actual: toCredits(bucket.remaining),
      })
    }
  }

  for (const transaction of transactions) {
    const hold = userAccount(transaction.user_ref).get(`hold:${transaction.id}`) ?? 0
    const expectedHold = transaction.status === 'pending' ? transaction.reserved : 0
    if (hold !== expectedHold) {
      differences.push({
        subject: 'transaction',
        id: transaction.id,
        message: `the hold of a ${transaction.status} transaction differs from the journal`,
        expected: toCredits(hold),
        actual: toCredits(expectedHold),
      })
    }
    const partsTotal = transaction.hold_parts.reduce((sum, part) => sum + part.amount, 0)
    if (partsTotal !== transaction.reserved) {
      differences.push({
        subject: 'transaction',
        id: transaction.id,
        message: 'the hold parts do not add up to the reservation',
        expected: toCredits(transaction.reserved),
        actual: toCredits(partsTotal),
      })
    }
    const charged = charges.get(transaction.id) ?? 0
    const expectedCharge = transaction.status === 'pending' ? 0 : transaction.used
    if (charged !== expectedCharge) {
      differences.push({
        subject: 'transaction',
        id: transaction.id,
        message: 'credits used differ from the charges in the journal',
        expected: toCredits(charged),
        actual: toCredits(expectedCharge),
      })
    }
  }

  const conservation = totals.available + totals.held + totals.spent + totals.expired
  if (conservation !== totals.granted) {
    differences.push({
      subject: 'journal',
      id: projectId,
      message: 'granted credits do not equal available + held + spent + expired',
      expected: toCredits(totals.granted),
      actual: toCredits(conservation),
    })
  }

  return {
    ok: differences.length === 0,
    project_id: projectId,
    checked: {
      users: users.length,
      buckets: buckets.length,
      transactions: transactions.length,
      journal_entries: entries,
    },
    totals: {
      granted: toCredits(totals.granted),
      available: toCredits(totals.available),
      held: toCredits(totals.held),
      spent: toCredits(totals.spent),
      expired: toCredits(totals.expired),
    },
    differences,
  }
}
