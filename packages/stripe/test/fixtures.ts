import Stripe from 'stripe'
import { signed } from '../src/testing/index.ts'

export const stripe = new Stripe('sk_test_credly_no_network')
export const WEBHOOK_SECRET = 'whsec_credly_test_secret'
export const PRO_PRICE = 'price_pro_monthly'
export const TEAM_PRICE = 'price_team_monthly'

/** Signs as Stripe does, with the tests' endpoint secret unless another is given. */
export const sign = (payload: object, options: { secret?: string; timestamp?: number } = {}) =>
  signed(payload, { secret: WEBHOOK_SECRET, ...options })
