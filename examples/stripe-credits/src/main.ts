import { createLocalClient } from '@credly/ledger'
import { serve } from '@hono/node-server'
import Stripe from 'stripe'
import { createStripeCreditsApp } from './app.ts'

/*
 * Run with Stripe test keys (see README.md):
 *   STRIPE_SECRET_KEY=sk_test_... STRIPE_WEBHOOK_SECRET=whsec_... \
 *   STRIPE_TOP_UP_PRICE=price_... STRIPE_PRO_PRICE=price_... pnpm start
 */
const need = (name: string): string => {
  const value = process.env[name]
  if (!value) {
    console.error(`stripe-credits: set ${name} (see examples/stripe-credits/README.md).`)
    process.exit(2)
  }
  return value
}

const port = Number(process.env.PORT ?? 3000)
const stripe = new Stripe(need('STRIPE_SECRET_KEY'))
const webhookSecret = need('STRIPE_WEBHOOK_SECRET')
const catalog = {
  topUpPrice: need('STRIPE_TOP_UP_PRICE'),
  topUpCredits: Number(process.env.TOP_UP_CREDITS ?? 5000),
  proPrice: need('STRIPE_PRO_PRICE'),
}
const credly = createLocalClient({
  database: process.env.CREDLY_DATABASE ?? './stripe-credits.db',
  config: new URL('../credly.json', import.meta.url).pathname,
})
const app = createStripeCreditsApp({
  credly,
  stripe,
  webhookSecret,
  catalog,
  publicUrl: process.env.PUBLIC_URL ?? `http://localhost:${port}`,
})
serve({ fetch: app.fetch, port }, () => {
  console.log(`stripe-credits on http://localhost:${port}; webhooks at /webhooks/stripe`)
})
