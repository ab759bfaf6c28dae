import { withCredits } from '@credly/next'
import { signedInUser } from '../../../lib/auth.ts'

/** The signed-in user's credits (a new user starts on the default tier). */
export const GET = withCredits(
  async (_request, { credly }) => Response.json({ balance: await credly.getBalance() }),
  { user: signedInUser },
)
