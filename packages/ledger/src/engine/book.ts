import { configuredTier, MAX_CREDITS, type ProjectConfig } from 'credly/internal'
import { MAX_MICRO, outOfRange, toCredits } from '../money.ts'
import type {
  Account,
  BucketRow,
  JournalEntryInput,
  JournalKind,
  StoreWriter,
  UserRow,
} from '../stores/store.ts'
import { periodStart } from './periods.ts'

/**
 * One user's accounts during one unit of work: the user row, their buckets and the journal
 * entries to append. Every movement goes through `move`, which writes the double entry and
 * keeps the user's `available` and `held` aggregates in step; `flush` writes it all.
 */
export class Book {
  readonly tx: StoreWriter
  readonly config: ProjectConfig
  readonly user: UserRow
  readonly now: number
  private readonly entries: JournalEntryInput[] = []
  private readonly buckets = new Map<string, BucketRow>()
  private readonly dirtyBuckets = new Set<string>()
  private readonly newBuckets = new Set<string>()
  private spendable: BucketRow[] | undefined
  /** Expiries this unit added (new buckets, new reservations), for `next_event_at`. */
  private readonly addedExpiries: number[] = []
  /** Whether the user was due when the unit began (so what is due next must be looked up). */
  private readonly wasDue: boolean

  constructor(tx: StoreWriter, config: ProjectConfig, user: UserRow, now: number) {
    this.tx = tx
    this.config = config
    this.user = { ...user }
    this.now = now
    this.wasDue = user.next_event_at !== null && user.next_event_at <= now
  }

  /** Records an expiry this unit created (a new reservation), so the user is due by then. */
  noteExpiry(at: number): void {
    this.addedExpiries.push(at)
  }

  /** The user's debt in micro-credits (0 unless `available` is negative). */
  get debt(): number {
    return Math.max(0, -this.user.available)
  }

  /** How many micro-credits may still be added before the user's credits pass `MAX_CREDITS`. */
  get room(): number {
    return Math.max(0, MAX_MICRO - (this.user.available + this.user.held))
  }

  /** Buckets with credits left, expired or not (loaded once per unit of work). */
  async bucketsWithCredits(): Promise<BucketRow[]> {
    if (!this.spendable) {
      this.spendable = (await this.tx.listSpendableBuckets(this.user.ref)).map((row) =>
        this.remember(row),
      )
    }
    return this.spendable.filter((bucket) => bucket.remaining > 0)
  }

  /** Unexpired buckets with credits left, in spend order: soonest expiry first. */
  async spendableBuckets(): Promise<BucketRow[]> {
    return (await this.bucketsWithCredits())
      .filter((bucket) => !this.isExpired(bucket))
      .sort(spendOrder)
  }

  /** A bucket by id, including empty and expired ones. */
  async bucket(id: string): Promise<BucketRow> {
    // Usually among the buckets with credits, which the store may have read with the user's lock.
    if (!this.spendable) await this.bucketsWithCredits()
    const known = this.buckets.get(id)
    if (known) return known
    const row = await this.tx.getBucket(id)
    if (!row) throw new Error(`ledger: bucket ${id} is missing`)
    return this.remember(row)
  }

  isExpired(bucket: BucketRow): boolean {
    return bucket.expires_at !== null && bucket.expires_at <= this.now
  }

  /** Adds a new bucket of credits from the world, repaying any debt from it first. */
  async addBucket(
    bucket: Omit<BucketRow, 'remaining' | 'project_id' | 'user_ref'>,
    kind: 'grant' | 'refill',
    memo: Record<string, unknown> | null,
  ): Promise<BucketRow> {
    const row = this.remember({
      ...bucket,
      remaining: 0,
      project_id: this.user.project_id,
      user_ref: this.user.ref,
    })
    this.newBuckets.add(row.id)
    if (row.expires_at !== null) this.addedExpiries.push(row.expires_at)
    this.spendable = [...(await this.bucketsWithCredits()), row]
    if (row.credits > 0) this.move(kind, row.credits, 'world', `bucket:${row.id}`, null, memo)
    await this.repayDebtFrom(row)
    return row
  }

  /** Moves what a bucket can spare into the debt account while the user owes. */
  async repayDebtFrom(bucket: BucketRow): Promise<void> {
    const repay = Math.min(bucket.remaining, this.debt)
    if (repay > 0)
      this.move('adjust', repay, `bucket:${bucket.id}`, 'debt', null, { repaid_debt: true })
  }

  /**
   * Records one double entry and applies it to the rows it touches. `available` counts bucket
   * and debt accounts; `held` counts hold accounts.
   */
  move(
    kind: JournalKind,
    amount: number,
    debit: Account,
    credit: Account,
    transactionId: string | null,
    memo: Record<string, unknown> | null = null,
  ): void {
    if (!Number.isSafeInteger(amount) || amount <= 0) {
      throw new Error(`ledger: a journal amount must be a positive integer, got ${amount}`)
    }
    this.apply(debit, -amount)
    this.apply(credit, amount)
    this.entries.push({
      project_id: this.user.project_id,
      user_ref: this.user.ref,
      kind,
      amount,
      debit,
      credit,
      transaction_id: transactionId,
      at: this.now,
      memo,
    })
  }

  /**
   * Writes the journal, buckets and user row, and works out when the user is next due. A unit
   * that would leave the user's credits past plus or minus `MAX_CREDITS` is refused instead
   * (nothing is written), so no sequence of accepted operations leaves the exact-integer range.
   */
  async flush(): Promise<UserRow> {
    this.assertInRange()
    for (const id of this.newBuckets) {
      await this.tx.insertBucket(this.buckets.get(id) as BucketRow)
      this.dirtyBuckets.delete(id)
    }
    for (const id of this.dirtyBuckets) {
      await this.tx.updateBucketRemaining(id, (this.buckets.get(id) as BucketRow).remaining)
    }
    if (this.entries.length > 0) await this.tx.appendJournal(this.entries)
    this.user.next_event_at = await this.nextEventAt()
    await this.tx.updateUser(this.user)
    this.entries.length = 0
    this.newBuckets.clear()
    this.dirtyBuckets.clear()
    return this.user
  }

  /**
   * When the user is next due. After settling what was due, it is looked up; otherwise the row's
   * previous value, lowered by what this unit added, is a safe bound: it may come early (a
   * reservation settled or extended meanwhile), and then that access settles nothing and looks it
   * up, but it is never late. Saves a query on most writes.
   */
  private async nextEventAt(): Promise<number | null> {
    const candidates = this.wasDue
      ? [await this.tx.nextExpiry(this.user.ref)]
      : [this.user.next_event_at, ...this.addedExpiries]
    const refill = configuredTier(this.config, this.user.tier_id)?.refill
    const nextRefill =
      refill && refill.every !== 'none'
        ? periodStart(this.user.refill_anchor, refill.every, this.user.refills_applied + 1)
        : null
    const times = [...candidates, nextRefill].filter((time): time is number => time !== null)
    return times.length === 0 ? null : Math.min(...times)
  }

  private assertInRange(): void {
    const { user } = this
    const credits = user.available + user.held
    if (credits > MAX_MICRO) {
      throw outOfRange(
        `This would give user "${user.user_id}" ${toCredits(credits)} credits (available plus held), more than the ${MAX_CREDITS} one user may hold.`,
        'credits',
      )
    }
    if (user.available < -MAX_MICRO) {
      throw outOfRange(
        `This would leave user "${user.user_id}" owing ${toCredits(-user.available)} credits, more than the ${MAX_CREDITS} one user may owe. Check the token counts sent.`,
        'finalized_tokens',
      )
    }
  }

  private apply(account: Account, delta: number): void {
    if (account.startsWith('bucket:')) {
      const bucket = this.buckets.get(account.slice('bucket:'.length))
      if (!bucket) throw new Error(`ledger: ${account} was not loaded`)
      bucket.remaining += delta
      if (bucket.remaining < 0) throw new Error(`ledger: ${account} would go below zero`)
      if (!this.newBuckets.has(bucket.id)) this.dirtyBuckets.add(bucket.id)
      this.user.available += delta
    } else if (account === 'debt') {
      this.user.available += delta
    } else if (account.startsWith('hold:')) {
      this.user.held += delta
      if (this.user.held < 0) throw new Error('ledger: held credits would go below zero')
    }
  }

  private remember(row: BucketRow): BucketRow {
    const known = this.buckets.get(row.id)
    if (known) return known
    const copy = { ...row }
    this.buckets.set(copy.id, copy)
    return copy
  }
}

/**
 * Soonest expiry first, never-expiring last; at the same expiry, tier credits before top-ups
 * (the user paid for those), then oldest first.
 */
export function spendOrder(a: BucketRow, b: BucketRow): number {
  const aExpiry = a.expires_at ?? Number.POSITIVE_INFINITY
  const bExpiry = b.expires_at ?? Number.POSITIVE_INFINITY
  if (aExpiry !== bExpiry) return aExpiry < bExpiry ? -1 : 1
  if (a.kind !== b.kind) return a.kind === 'refill' ? -1 : 1
  if (a.created_at !== b.created_at) return a.created_at - b.created_at
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0
}
