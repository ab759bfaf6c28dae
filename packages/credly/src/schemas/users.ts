import { z } from 'zod'
import {
  creditsSchema,
  pageQuerySchema,
  pageSchema,
  textSchema,
  tierIdSchema,
  timestampSchema,
  userIdSchema,
} from './common.ts'

/** Free-form string values the app keeps on a user (e.g. an email), at most 50 keys. */
export const metadataSchema = z
  .record(textSchema('a metadata key', { max: 100 }), textSchema('a metadata value', { max: 1000 }))
  .refine((value) => Object.keys(value).length <= 50, 'metadata may have at most 50 keys')

/** Body of `createUser`. */
export const createUserRequestSchema = z
  .object({
    user_id: userIdSchema,
    /**
     * A metering key may name only the default tier or a tier marked `self_serve`; other tiers
     * take an admin key. @default the project's default tier
     */
    tier_id: tierIdSchema.optional(),
    metadata: metadataSchema.optional(),
  })
  .strict()
export type CreateUserRequest = z.input<typeof createUserRequestSchema>

/** A metered user and their credits. */
export const userSchema = z.object({
  user_id: z.string(),
  tier_id: z.string(),
  /** Credits the user can spend now (held credits excluded). May be negative after an overrun. */
  balance: creditsSchema,
  /** Credits held by pending reservations. */
  held: creditsSchema,
  /** When the tier's next refill is due; null for a tier that does not refill. */
  next_refill_at: timestampSchema.nullable(),
  metadata: z.record(z.string(), z.string()),
  created_at: timestampSchema,
})
export type User = z.infer<typeof userSchema>

/** Body of `changeUserTier`. */
export const changeUserTierRequestSchema = z
  .object({
    user_id: userIdSchema,
    /** The tier to move to. @default the project's default tier */
    tier_id: tierIdSchema.optional(),
    /**
     * When the change was decided, e.g. a payment event's time. A change older than the last one
     * applied with `as_of` changes nothing (the user is returned as is), so events that arrive
     * out of order cannot undo a newer one.
     */
    as_of: timestampSchema.optional(),
    /**
     * True: the balance becomes the new tier's allocation. False: the balance is kept and the new
     * tier's refills apply from now on. @default false
     */
    reset_balance: z.boolean().optional(),
  })
  .strict()
export type ChangeUserTierRequest = z.input<typeof changeUserTierRequestSchema>

/** Pagination and filters of `getUsers`. */
export const listUsersQuerySchema = pageQuerySchema
  .extend({
    tier_id: tierIdSchema.optional(),
  })
  .strict()
export type ListUsersQuery = z.input<typeof listUsersQuerySchema>

export const userPageSchema = pageSchema(userSchema)

/** Result of `deleteUser`. */
export const deleteUserResponseSchema = z.object({
  user_id: z.string(),
  deleted: z.literal(true),
})
export type DeleteUserResponse = z.infer<typeof deleteUserResponseSchema>

/** Result of `getBalance`. */
export const balanceResponseSchema = z.object({
  user_id: z.string(),
  /** Credits the user can spend now (held credits excluded). */
  balance: creditsSchema,
  /** Credits held by pending reservations. */
  held: creditsSchema,
})
export type BalanceResponse = z.infer<typeof balanceResponseSchema>
