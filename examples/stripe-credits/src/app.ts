import { createSubscriptionCheckout, createTopUpCheckout, stripeWebhook } from '@credly/stripe'
import type { CredlyClient } from 'credly'
import { Hono } from 'hono'
import { html } from 'hono/html'
import type Stripe from 'stripe'

/** What the app sells: a Stripe price for a top-up of `topUpCredits`, and one for Pro. */
export type Catalog = { topUpPrice: string; topUpCredits: number; proPrice: string }

/**
 * A page that shows a user's credits and sells them more: a one-time top-up and a Pro
 * subscription, both through Stripe Checkout, applied by Stripe's webhook.
 */
export function createStripeCreditsApp(options: {
  credly: CredlyClient
  stripe: Stripe
  webhookSecret: string
  catalog: Catalog
  /** Where Stripe sends the buyer back to. */
  publicUrl: string
}): Hono {
  const { credly, stripe, catalog, publicUrl } = options
  const app = new Hono()
  // Stand-in for your auth: the user is in the query. Never trust a browser's word in a real app.
  const userOf = (url: string) => new URL(url).searchParams.get('user') || 'demo-user'
  const pageOf = (userId: string) => `${publicUrl}/?user=${encodeURIComponent(userId)}`

  app.get('/', async (c) => {
    const userId = userOf(c.req.url)
    const user = await credly.getUser(userId).catch(() => credly.createUser({ user_id: userId }))
    const query = `?user=${encodeURIComponent(userId)}`
    return c.html(html`<!doctype html>
<title>Credits</title>
<h1>${userId}</h1>
<p>Tier <b data-testid="tier">${user.tier_id}</b>, <b data-testid="balance">${user.balance}</b> credits.</p>
<form method="post" action="/buy/top-up${query}"><button>Buy ${catalog.topUpCredits} credits</button></form>
<form method="post" action="/buy/pro${query}"><button>Subscribe to Pro</button></form>`)
  })

  app.post('/buy/top-up', async (c) => {
    const userId = userOf(c.req.url)
    const session = await createTopUpCheckout({
      stripe,
      userId,
      credits: catalog.topUpCredits,
      price: catalog.topUpPrice,
      // Back to this page, paid or not.
      successUrl: pageOf(userId),
      cancelUrl: pageOf(userId),
    })
    return c.redirect(session.url ?? '/', 303)
  })

  app.post('/buy/pro', async (c) => {
    const userId = userOf(c.req.url)
    const session = await createSubscriptionCheckout({
      stripe,
      userId,
      price: catalog.proPrice,
      // Back to this page, paid or not.
      successUrl: pageOf(userId),
      cancelUrl: pageOf(userId),
    })
    return c.redirect(session.url ?? '/', 303)
  })

  const webhook = stripeWebhook({
    client: credly,
    stripe,
    webhookSecret: options.webhookSecret,
    tiers: { [catalog.proPrice]: 'pro' },
    // Pro credits arrive with each paid invoice, not on a clock of their own.
    refillOn: 'invoice',
  })
  app.post('/webhooks/stripe', (c) => webhook(c.req.raw))
  return app
}
