import { stripeWebhook } from '@credly/stripe'
import { createClient } from 'credly'
import Stripe from 'stripe'

/**
 * Stripe's webhook: paid top-ups become grants, subscriptions tiers. It needs Credly's admin key
 * (grants and tier changes are admin operations), never sent to a browser.
 */
export const POST = stripeWebhook({
  client: createClient({ apiKey: process.env.CREDLY_ADMIN_KEY }),
  stripe: new Stripe(process.env.STRIPE_SECRET_KEY ?? ''),
  webhookSecret: process.env.STRIPE_WEBHOOK_SECRET ?? '',
  tiers: { [process.env.STRIPE_PRO_PRICE ?? 'price_pro_monthly']: 'pro' },
})
