import { z } from 'zod'
import {
  creditsSchema,
  hasAtMostSixDecimals,
  MAX_CREDITS,
  textSchema,
  timestampSchema,
  userIdSchema,
} from './common.ts'

/** Body of `grantCredits`: a top-up of credits for one user. */
export const grantCreditsRequestSchema = z
  .object({
    user_id: userIdSchema,
    /** Credits to add; more than zero, at most six decimals. */
    credits: z
      .number({ error: 'credits must be a number' })
      .positive('credits must be more than zero')
      .max(MAX_CREDITS, `credits must be at most ${MAX_CREDITS} (MAX_CREDITS)`)
      .refine(hasAtMostSixDecimals, 'credits may have at most six decimals'),
    /** When the unspent remainder expires; never when absent. */
    expires_at: timestampSchema.optional(),
    /** Why the credits were granted, kept in the journal (e.g. `purchase #123`). */
    reason: textSchema('reason', { max: 500 }).optional(),
  })
  .strict()
export type GrantCreditsRequest = z.input<typeof grantCreditsRequestSchema>

/** A top-up as recorded. */
export const grantSchema = z.object({
  id: z.string(),
  user_id: z.string(),
  credits: creditsSchema,
  /** What is left of it to spend. */
  remaining: creditsSchema,
  expires_at: timestampSchema.nullable(),
  reason: z.string().nullable(),
  created_at: timestampSchema,
})
export type Grant = z.infer<typeof grantSchema>
