import {
  CredlyApiError,
  configuredTier,
  defaultTierOf,
  type ProjectConfig,
  type Tier,
} from 'credly/internal'
import { newId } from '../ids.ts'
import type { StoreWriter, UserRow } from '../stores/store.ts'
import { Book } from './book.ts'
import { grantInitialTierCredits } from './refills.ts'
import { expireReservation } from './reservations.ts'

/** The tier of the config by id, or a clear error naming the tiers it has. */
export function tierOrThrow(config: ProjectConfig, tierId: string): Tier {
  const tier = configuredTier(config, tierId)
  if (tier) return tier
  throw CredlyApiError.fromKind(
    'unknown-tier',
    `Tier "${tierId}" is not in this project's config (tiers: ${Object.keys(config.tiers).join(', ')}).`,
    { errors: [{ path: 'tier_id', message: `no tier "${tierId}"` }] },
  )
}

/** Creates a user on a tier and grants the tier's first credits. */
export async function insertUser(
  tx: StoreWriter,
  config: ProjectConfig,
  input: {
    project_id: string
    user_id: string
    tier_id?: string | undefined
    metadata?: Record<string, string> | undefined
  },
  now: number,
): Promise<UserRow> {
  const tierId = input.tier_id ?? defaultTierOf(config)
  const tier = tierOrThrow(config, tierId)
  const row: UserRow = {
    ref: newId('user'),
    project_id: input.project_id,
    user_id: input.user_id,
    tier_id: tierId,
    available: 0,
    held: 0,
    metadata: input.metadata ?? {},
    created_at: now,
    refill_anchor: now,
    refills_applied: 0,
    next_event_at: null,
    tier_as_of: null,
    deleted_at: null,
  }
  if (!(await tx.insertUser(row))) {
    throw CredlyApiError.fromKind(
      'user-exists',
      `User "${input.user_id}" already exists in this project.`,
    )
  }
  const book = new Book(tx, config, row, now)
  await grantInitialTierCredits(book, tierId, tier)
  return book.flush()
}

/**
 * Moves a user to another tier; its refills count from now. With `reset`, the unspent tier
 * credits expire and the new tier's allocation is granted at once; top-ups are kept either way.
 */
export async function changeTier(
  book: Book,
  tierId: string,
  reset: boolean,
  asOf: number | null = null,
): Promise<void> {
  const tier = tierOrThrow(book.config, tierId)
  if (asOf !== null) {
    // A change decided before the last one applied arrived late: the newer one stands.
    if (book.user.tier_as_of !== null && asOf < book.user.tier_as_of) return
    book.user.tier_as_of = asOf
  }
  if (book.user.tier_id === tierId && !reset) return
  if (reset) {
    for (const bucket of await book.bucketsWithCredits()) {
      if (bucket.kind === 'refill') {
        book.move('expire', bucket.remaining, `bucket:${bucket.id}`, 'expired', null, {
          tier_change: { from: book.user.tier_id, to: tierId },
        })
      }
    }
  }
  book.user.tier_id = tierId
  book.user.refill_anchor = book.now
  book.user.refills_applied = 0
  if (reset) {
    await grantInitialTierCredits(book, tierId, tier)
  }
}

/**
 * Deletes a user: pending reservations are released (nothing ran that anyone will complete),
 * and the row is marked deleted. The journal and transactions stay; the app id may be reused.
 */
export async function deleteUser(book: Book): Promise<void> {
  const pending = await book.tx.listExpiredPending(book.user.ref, Number.MAX_SAFE_INTEGER)
  for (const transaction of pending) await expireReservation(book, transaction, 'release')
  book.user.deleted_at = book.now
}
