// Sums are BigInt: a project's (or a long-lived user's) totals can pass 2^53 micro-credits.
import { sumToCredits as credits } from '../money.ts'
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
  const accounts = new Map<string, Map<string, bigint>>()
  const charges = new Map<string, bigint>()
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
      const amount = BigInt(entry.amount)
      const map = userAccount(entry.user_ref)
      map.set(entry.debit, (map.get(entry.debit) ?? 0n) - amount)
      map.set(entry.credit, (map.get(entry.credit) ?? 0n) + amount)
      if (entry.credit === 'spent' && entry.transaction_id) {
        charges.set(entry.transaction_id, (charges.get(entry.transaction_id) ?? 0n) + amount)
      }
      after = entry.seq
    }
    if (page.length < PAGE) break
  }

  const users = await tx.listAllUsers(projectId)
  const buckets = await tx.listAllBuckets(projectId)
  const transactions = await tx.listAllTransactions(projectId)
  const totals = { granted: 0n, available: 0n, held: 0n, spent: 0n, expired: 0n }

  for (const user of users) {
    const map = userAccount(user.ref)
    let available = 0n
    let held = 0n
    for (const [account, balance] of map) {
      if (account.startsWith('bucket:') || account === 'debt') available += balance
      else if (account.startsWith('hold:')) held += balance
    }
    const label = `${user.user_id} (${user.ref})`
    if (available !== BigInt(user.available)) {
      differences.push({
        subject: 'user',
        id: label,
        message: 'available credits differ from the journal',
        expected: credits(available),
        actual: credits(user.available),
      })
    }
    if (held !== BigInt(user.held)) {
      differences.push({
        subject: 'user',
        id: label,
        message: 'held credits differ from the journal',
        expected: credits(held),
        actual: credits(user.held),
      })
    }
    if ((map.get('debt') ?? 0n) > 0n) {
      differences.push({ subject: 'user', id: label, message: 'the debt account is positive' })
    }
    totals.granted -= map.get('world') ?? 0n
    totals.available += BigInt(user.available)
    totals.held += BigInt(user.held)
    totals.spent += map.get('spent') ?? 0n
    totals.expired += map.get('expired') ?? 0n
  }

  for (const bucket of buckets) {
    const replayed = userAccount(bucket.user_ref).get(`bucket:${bucket.id}`) ?? 0n
    if (
      replayed !== BigInt(bucket.remaining) ||
      bucket.remaining < 0 ||
      bucket.remaining > bucket.credits
    ) {
      differences.push({
        subject: 'bucket',
        id: bucket.id,
        message: 'remaining credits differ from the journal',
        expected: credits(replayed),
        actual: credits(bucket.remaining),
      })
    }
  }

  for (const transaction of transactions) {
    const hold = userAccount(transaction.user_ref).get(`hold:${transaction.id}`) ?? 0n
    const expectedHold = transaction.status === 'pending' ? BigInt(transaction.reserved) : 0n
    if (hold !== expectedHold) {
      differences.push({
        subject: 'transaction',
        id: transaction.id,
        message: `the hold of a ${transaction.status} transaction differs from the journal`,
        expected: credits(hold),
        actual: credits(expectedHold),
      })
    }
    const partsTotal = transaction.hold_parts.reduce((sum, part) => sum + BigInt(part.amount), 0n)
    if (partsTotal !== BigInt(transaction.reserved)) {
      differences.push({
        subject: 'transaction',
        id: transaction.id,
        message: 'the hold parts do not add up to the reservation',
        expected: credits(transaction.reserved),
        actual: credits(partsTotal),
      })
    }
    const charged = charges.get(transaction.id) ?? 0n
    const expectedCharge = transaction.status === 'pending' ? 0n : BigInt(transaction.used)
    if (charged !== expectedCharge) {
      differences.push({
        subject: 'transaction',
        id: transaction.id,
        message: 'credits used differ from the charges in the journal',
        expected: credits(charged),
        actual: credits(expectedCharge),
      })
    }
  }

  const conservation = totals.available + totals.held + totals.spent + totals.expired
  if (conservation !== totals.granted) {
    differences.push({
      subject: 'journal',
      id: projectId,
      message: 'granted credits do not equal available + held + spent + expired',
      expected: credits(totals.granted),
      actual: credits(conservation),
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
      granted: credits(totals.granted),
      available: credits(totals.available),
      held: credits(totals.held),
      spent: credits(totals.spent),
      expired: credits(totals.expired),
    },
    differences,
  }
}
