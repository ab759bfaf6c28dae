import {
  configuredTier,
  type Grant,
  type ProjectConfig,
  type Transaction,
  type User,
} from 'credly/internal'
import { toCredits } from '../money.ts'
import type { BucketRow, TransactionRow, UserRow } from '../stores/store.ts'
import { periodStart } from './periods.ts'

const iso = (time: number) => new Date(time).toISOString()
const isoOrNull = (time: number | null) => (time === null ? null : iso(time))

/** A user row as the API shows it. */
export function toUser(row: UserRow, config: ProjectConfig): User {
  const refill = configuredTier(config, row.tier_id)?.refill
  return {
    user_id: row.user_id,
    tier_id: row.tier_id,
    balance: toCredits(row.available),
    held: toCredits(row.held),
    next_refill_at:
      refill && refill.every !== 'none'
        ? iso(periodStart(row.refill_anchor, refill.every, row.refills_applied + 1))
        : null,
    metadata: row.metadata,
    created_at: iso(row.created_at),
  }
}

/** A transaction row as the API shows it. */
export function toTransaction(row: TransactionRow): Transaction {
  return {
    id: row.id,
    user_id: row.user_id,
    model: row.model,
    feature_identifier: row.feature_identifier,
    status: row.status,
    credits_reserved: toCredits(row.reserved),
    credits_used: toCredits(row.used),
    provisional_tokens: row.provisional_tokens,
    finalized_tokens: row.finalized_tokens,
    price: row.price,
    price_source: row.price_source ?? { from: 'config' },
    estimated: row.estimated,
    created_at: iso(row.created_at),
    completed_at: isoOrNull(row.completed_at),
    expires_at: isoOrNull(row.expires_at),
  }
}

/** A grant bucket as the API shows it. */
export function toGrant(row: BucketRow, userId: string): Grant {
  return {
    id: row.id,
    user_id: userId,
    credits: toCredits(row.credits),
    remaining: toCredits(row.remaining),
    expires_at: isoOrNull(row.expires_at),
    reason: row.reason,
    created_at: iso(row.created_at),
  }
}

/** An opaque cursor from its parts, and back. */
export function encodeCursor(parts: Array<string | number>): string {
  return Buffer.from(JSON.stringify(parts)).toString('base64url')
}

export function decodeCursor(cursor: string): unknown[] | undefined {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
    return Array.isArray(value) ? value : undefined
  } catch {
    return undefined
  }
}
