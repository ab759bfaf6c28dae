import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLocalClient, type LocalClient } from '@credly/ledger'
import {
  checkoutSession,
  event,
  invoice,
  signed,
  startFakeStripeApi,
  subscription,
} from '@credly/stripe/testing'
import { afterEach, beforeEach, expect, it } from 'vitest'
import { type Catalog, createStripeCreditsApp } from '../src/app.ts'

/**
 * The example app as a buyer uses it: the page, the buy buttons (Checkout Sessions made through
 * the real `stripe` package against a local stand-in of Stripe's API), and Stripe's webhook
 * events, signed as Stripe signs them, carrying what the app put on the session.
 */
const webhookSecret = 'whsec_example'
const catalog: Catalog = { topUpPrice: 'price_top_up', topUpCredits: 5000, proPrice: 'price_pro' }
let folder: string
let credly: LocalClient
let api: Awaited<ReturnType<typeof startFakeStripeApi>>
let app: ReturnType<typeof createStripeCreditsApp>

beforeEach(async () => {
  folder = mkdtempSync(join(tmpdir(), 'credly-stripe-example-'))
  credly = createLocalClient({
    database: join(folder, 'credly.db'),
    config: new URL('../credly.json', import.meta.url).pathname,
  })
  api = await startFakeStripeApi()
  app = createStripeCreditsApp({
    credly,
    stripe: api.stripe,
    webhookSecret,
    catalog,
    publicUrl: 'http://localhost:3000',
  })
})
afterEach(async () => {
  expect((await credly.verify()).ok).toBe(true)
  await credly.close()
  await api.close()
  rmSync(folder, { recursive: true, force: true })
})

const page = async (user: string) => {
  const text = await (await app.request(`/?user=${user}`)).text()
  return {
    tier: /data-testid="tier">([^<]*)</.exec(text)?.[1],
    balance: Number(/data-testid="balance">([^<]*)</.exec(text)?.[1]),
  }
}
const sendWebhook = (payload: object) => {
  const { body, signature } = signed(payload, { secret: webhookSecret })
  return app.request('/webhooks/stripe', {
    method: 'POST',
    headers: { 'stripe-signature': signature },
    body,
  })
}

it('sells a top-up: the buy button opens Checkout, the paid session grants the credits', async () => {
  expect(await page('ann')).toEqual({ tier: 'free', balance: 50 })
  const buy = await app.request('/buy/top-up?user=ann', { method: 'POST' })
  expect(buy.status).toBe(303)
  expect(buy.headers.get('location')).toMatch(/^https:\/\/checkout\.stripe\.com\//)
  // Stripe completes the session the app created, with the metadata the app put on it.
  const sent = api.requests[0]?.params ?? {}
  const paid = checkoutSession({
    userId: sent.client_reference_id,
    credits: sent['metadata[credly_credits]'],
  })
  expect((await sendWebhook(event('checkout.session.completed', paid))).status).toBe(200)
  expect(await page('ann')).toEqual({ tier: 'free', balance: 5050 })
})

it('sells Pro: the subscription puts the user on pro, each paid renewal refills it', async () => {
  await app.request('/buy/pro?user=bo', { method: 'POST' })
  const sent = api.requests[0]?.params ?? {}
  expect(sent.mode).toBe('subscription')
  const sub = subscription({
    userId: sent['subscription_data[metadata][credly_user_id]'],
    price: sent['line_items[0][price]'] ?? '',
    status: 'active',
  })
  const t = Math.floor(Date.now() / 1000)
  await sendWebhook(event('customer.subscription.created', sub, { created: t }))
  expect(await page('bo')).toEqual({ tier: 'pro', balance: 20000 })
  // A top-up bought meanwhile, and a call priced from the catalog.
  await credly.grantCredits({ user_id: 'bo', credits: 1 })
  const start = await credly.startUsageTransaction({
    user_id: 'bo',
    model: 'gpt-4o-mini',
    provider: 'openai.chat',
    provisional_tokens: { input_tokens: 10_000_000 },
  })
  if (!start.continue) throw new Error(start.message)
  await credly.completeUsageTransaction({
    transaction_id: start.transaction_id,
    success: true,
    finalized_tokens: { input_tokens: 10_000_000 },
  })
  expect((await page('bo')).balance).toBeLessThan(20000)
  // The next month's invoice is paid: the tier credits are whole again, the top-up kept.
  const renewal = invoice({ subscription: sub.id, userId: 'bo', price: catalog.proPrice })
  await sendWebhook(event('invoice.paid', renewal, { created: t + 1 }))
  expect(await page('bo')).toEqual({ tier: 'pro', balance: 20001 })
  await sendWebhook(
    event('customer.subscription.deleted', { ...sub, status: 'canceled' }, { created: t + 2 }),
  )
  expect(await page('bo')).toEqual({ tier: 'free', balance: 51 })
})
