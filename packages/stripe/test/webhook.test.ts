import { createTestServer, type TestServer } from '@credly/server/testing'
import type { CredlyClient } from 'credly'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type StripeWebhookOptions, stripeWebhook, type WebhookOutcome } from '../src/index.ts'
import {
  checkoutSession,
  event,
  invoice,
  paymentIntent,
  subscription,
} from '../src/testing/index.ts'
import { PRO_PRICE, sign, stripe, TEAM_PRICE, WEBHOOK_SECRET } from './fixtures.ts'

/**
 * The webhook against a real Credly server over HTTP: each event is signed as Stripe signs it,
 * and each test reads the ledger afterwards (balances, tiers, verify()).
 */
const config = {
  models: { 'gpt-4o': { input: 2.5, output: 10 } },
  tiers: {
    free: { credits: 10 },
    pro: { credits: 1000, refill: { every: 'month' as const } },
    team: { credits: 5000, refill: { every: 'none' as const } },
  },
  default_tier: 'free',
}

let credly: TestServer
let client: CredlyClient
let logs: Array<{ level: string; message: string }>
beforeEach(async () => {
  credly = await createTestServer({ config })
  client = credly.client()
  logs = []
})
afterEach(async () => {
  expect((await credly.ledger.verify(credly.projectId)).differences).toEqual([])
  await credly.close()
})

const webhook = (options: Partial<StripeWebhookOptions> = {}) =>
  stripeWebhook({
    client,
    stripe,
    webhookSecret: WEBHOOK_SECRET,
    tiers: { [PRO_PRICE]: 'pro', [TEAM_PRICE]: 'team' },
    log: (level, message) => logs.push({ level, message }),
    ...options,
  })

/** Delivers one event as Stripe does; resolves to the status and the JSON answered. */
async function deliver(
  handler: (request: Request) => Promise<Response>,
  payload: object,
  signing: Parameters<typeof sign>[1] = {},
): Promise<{ status: number; body: WebhookOutcome & { type?: string; detail: string } }> {
  const { body, signature } = sign(payload, signing)
  const response = await handler(
    new Request('http://127.0.0.1/webhooks/stripe', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'stripe-signature': signature },
      body,
    }),
  )
  return { status: response.status, body: await response.json() }
}

/** Spends `credits` of a user's balance through a real start and complete. */
async function spend(userId: string, credits: number) {
  const start = await client.startUsageTransaction({
    user_id: userId,
    model: 'gpt-4o',
    provisional_tokens: { output_tokens: credits * 100_000 },
  })
  if (!start.continue) throw new Error(start.message)
  await client.completeUsageTransaction({
    transaction_id: start.transaction_id,
    success: true,
    finalized_tokens: { output_tokens: credits * 100_000 },
  })
}

describe('top-ups', () => {
  it('grants a paid checkout once, however often Stripe delivers it', async () => {
    const handler = webhook()
    const completed = event(
      'checkout.session.completed',
      checkoutSession({ userId: 'ann', credits: '500', expiresAt: '2099-01-01T00:00:00.000Z' }),
    )
    const first = await deliver(handler, completed)
    expect(first).toMatchObject({ status: 200, body: { outcome: 'granted' } })
    // The user did not exist: created on the default tier (10 credits), then granted 500.
    expect(await client.getBalance('ann')).toMatchObject({ balance: 510 })
    // Stripe's retries and duplicate deliveries carry the same event id.
    for (let i = 0; i < 3; i++) {
      expect((await deliver(handler, completed)).status).toBe(200)
    }
    expect(await client.getBalance('ann')).toMatchObject({ balance: 510 })
    // A second purchase is another event: granted again.
    await deliver(
      handler,
      event('checkout.session.completed', checkoutSession({ userId: 'ann', credits: '500' })),
    )
    expect(await client.getBalance('ann')).toMatchObject({ balance: 1010 })
  })

  it('waits for a delayed payment to succeed before granting', async () => {
    const handler = webhook()
    const session = checkoutSession({ userId: 'bo', credits: '50', paymentStatus: 'unpaid' })
    const pending = await deliver(handler, event('checkout.session.completed', session))
    expect(pending.body).toMatchObject({ outcome: 'ignored' })
    await expect(client.getUser('bo')).rejects.toMatchObject({ status: 404 })
    const succeeded = await deliver(
      handler,
      event('checkout.session.async_payment_succeeded', { ...session, payment_status: 'paid' }),
    )
    expect(succeeded.body).toMatchObject({ outcome: 'granted' })
    expect(await client.getBalance('bo')).toMatchObject({ balance: 60 })
  })

  it("grants a payment intent's credits, and ignores one without Credly metadata", async () => {
    const handler = webhook()
    await deliver(
      handler,
      event(
        'payment_intent.succeeded',
        paymentIntent({ credly_user_id: 'cy', credly_credits: '25.5' }),
      ),
    )
    expect(await client.getBalance('cy')).toMatchObject({ balance: 35.5 })
    const plain = await deliver(handler, event('payment_intent.succeeded', paymentIntent({})))
    expect(plain.body).toMatchObject({ outcome: 'ignored' })
    expect(await client.getBalance('cy')).toMatchObject({ balance: 35.5 })
  })

  it('acknowledges a checkout it cannot apply, saying why, and changes nothing', async () => {
    const handler = webhook()
    for (const credits of ['lots', '-5', undefined]) {
      const outcome = await deliver(
        handler,
        event('checkout.session.completed', checkoutSession({ userId: 'di', credits })),
      )
      expect(outcome).toMatchObject({ status: 200, body: { outcome: 'ignored' } })
      expect(outcome.body.detail).toContain('credly_credits')
    }
    const nobody = await deliver(
      handler,
      event('checkout.session.completed', checkoutSession({ userId: null, credits: '5' })),
    )
    expect(nobody.body.detail).toContain('names no user')
    // Past Credly's limit: Credly refuses, the webhook acknowledges (a retry cannot help).
    const huge = await deliver(
      handler,
      event('checkout.session.completed', checkoutSession({ userId: 'di', credits: '2e9' })),
    )
    expect(huge).toMatchObject({ status: 200, body: { outcome: 'failed' } })
    expect(logs.at(-1)).toMatchObject({ level: 'error' })
    expect(await client.getBalance('di')).toMatchObject({ balance: 10 })
  })
})

describe('subscriptions', () => {
  it('puts the subscriber on the mapped tier, refills on a tier change only, and back at the end', async () => {
    const handler = webhook()
    const sub = subscription({ userId: 'ed', price: PRO_PRICE, status: 'active' })
    const t = Math.floor(Date.now() / 1000)
    await deliver(handler, event('customer.subscription.created', sub, { created: t }))
    expect(await client.getUser('ed')).toMatchObject({ tier_id: 'pro', balance: 1000 })
    await spend('ed', 100)
    // An update that keeps the tier (a new card, cancel at period end) refills nothing.
    await deliver(
      handler,
      event(
        'customer.subscription.updated',
        { ...sub, cancel_at_period_end: true },
        { created: t + 1 },
      ),
    )
    expect(await client.getUser('ed')).toMatchObject({ tier_id: 'pro', balance: 900 })
    // An upgrade to another price moves the tier, with the new tier's credits.
    const upgraded = subscription({ id: sub.id, userId: 'ed', price: TEAM_PRICE, status: 'active' })
    await deliver(handler, event('customer.subscription.updated', upgraded, { created: t + 2 }))
    expect(await client.getUser('ed')).toMatchObject({ tier_id: 'team', balance: 5000 })
    await deliver(
      handler,
      event(
        'customer.subscription.deleted',
        { ...upgraded, status: 'canceled' },
        { created: t + 3 },
      ),
    )
    // Back on the project's default tier, with its credits.
    expect(await client.getUser('ed')).toMatchObject({ tier_id: 'free', balance: 10 })
  })

  it('resets the balance once when a subscription ends, though Stripe tells it twice', async () => {
    // A cancellation comes as customer.subscription.updated (status canceled), then as
    // customer.subscription.deleted: two events, the user already on the default tier at the second.
    const handler = webhook()
    const sub = subscription({ userId: 'eve', price: PRO_PRICE, status: 'active' })
    const t = Math.floor(Date.now() / 1000)
    await deliver(handler, event('customer.subscription.created', sub, { created: t }))
    const canceled = { ...sub, status: 'canceled' as const }
    await deliver(handler, event('customer.subscription.updated', canceled, { created: t + 1 }))
    expect(await client.getUser('eve')).toMatchObject({ tier_id: 'free', balance: 10 })
    await spend('eve', 4)
    const second = await deliver(
      handler,
      event('customer.subscription.deleted', canceled, { created: t + 2 }),
    )
    expect(second.body).toMatchObject({ outcome: 'tier_changed' })
    // The free credits were not handed out again.
    expect(await client.getUser('eve')).toMatchObject({ tier_id: 'free', balance: 6 })
  })

  it('ignores an update older than the state applied (out-of-order delivery)', async () => {
    const handler = webhook()
    const sub = subscription({ userId: 'flo', price: PRO_PRICE, status: 'active' })
    const t = Math.floor(Date.now() / 1000)
    await deliver(handler, event('customer.subscription.created', sub, { created: t }))
    // Stripe sends the cancellation (t + 20) before an earlier update (t + 10).
    await deliver(
      handler,
      event('customer.subscription.deleted', { ...sub, status: 'canceled' }, { created: t + 20 }),
    )
    const late = await deliver(
      handler,
      event('customer.subscription.updated', sub, { created: t + 10 }),
    )
    expect(late.status).toBe(200)
    expect(await client.getUser('flo')).toMatchObject({ tier_id: 'free', balance: 10 })
  })

  it('moves an unpaid or canceled subscription to endedTier', async () => {
    const handler = webhook({ endedTier: 'free' })
    const sub = subscription({ userId: 'gil', price: TEAM_PRICE, status: 'trialing' })
    const t = Math.floor(Date.now() / 1000)
    await deliver(handler, event('customer.subscription.created', sub, { created: t }))
    expect(await client.getUser('gil')).toMatchObject({ tier_id: 'team' })
    // past_due: Stripe is still retrying the card; the tier stays.
    const pastDue = await deliver(
      handler,
      event('customer.subscription.updated', { ...sub, status: 'past_due' }, { created: t + 1 }),
    )
    expect(pastDue.body).toMatchObject({ outcome: 'ignored' })
    expect(await client.getUser('gil')).toMatchObject({ tier_id: 'team' })
    await deliver(
      handler,
      event('customer.subscription.updated', { ...sub, status: 'unpaid' }, { created: t + 2 }),
    )
    expect(await client.getUser('gil')).toMatchObject({ tier_id: 'free', balance: 10 })
  })

  it('acknowledges an unknown price and changes nothing', async () => {
    const handler = webhook()
    await client.createUser({ user_id: 'hal' })
    const outcome = await deliver(
      handler,
      event(
        'customer.subscription.created',
        subscription({ userId: 'hal', price: 'price_unknown', status: 'active' }),
      ),
    )
    expect(outcome).toMatchObject({ status: 200, body: { outcome: 'ignored' } })
    expect(outcome.body.detail).toContain('price_unknown')
    expect(logs.at(-1)).toMatchObject({ level: 'warn' })
    expect(await client.getUser('hal')).toMatchObject({ tier_id: 'free', balance: 10 })
  })

  it('refills at each paid renewal invoice with refillOn: "invoice"', async () => {
    const handler = webhook({ refillOn: 'invoice' })
    const sub = subscription({ userId: 'ivy', price: TEAM_PRICE, status: 'active' })
    const t = Math.floor(Date.now() / 1000)
    await deliver(handler, event('customer.subscription.created', sub, { created: t }))
    await spend('ivy', 1200)
    expect(await client.getBalance('ivy')).toMatchObject({ balance: 3800 })
    // The first invoice comes with the subscription: not a renewal.
    const first = invoice({
      subscription: sub.id,
      userId: 'ivy',
      price: TEAM_PRICE,
      billingReason: 'subscription_create',
    })
    await deliver(handler, event('invoice.paid', first, { created: t + 1 }))
    expect(await client.getBalance('ivy')).toMatchObject({ balance: 3800 })
    const renewal = event(
      'invoice.paid',
      invoice({ subscription: sub.id, userId: 'ivy', price: TEAM_PRICE }),
      { created: t + 2 },
    )
    expect((await deliver(handler, renewal)).body).toMatchObject({ outcome: 'tier_changed' })
    expect(await client.getBalance('ivy')).toMatchObject({ balance: 5000 })
    await spend('ivy', 1)
    await deliver(handler, renewal)
    expect(await client.getBalance('ivy')).toMatchObject({ balance: 4999 })
  })

  it('leaves renewals to the tier clock by default', async () => {
    const handler = webhook()
    const outcome = await deliver(
      handler,
      event('invoice.paid', invoice({ subscription: 'sub_x', userId: 'jo', price: PRO_PRICE })),
    )
    expect(outcome.body).toMatchObject({ outcome: 'ignored' })
    await expect(client.getUser('jo')).rejects.toMatchObject({ status: 404 })
  })
})

describe('what is not a verified Stripe event', () => {
  it('refuses a tampered body, a wrong secret, an old signature and no signature with 400', async () => {
    const handler = webhook()
    const payload = event(
      'checkout.session.completed',
      checkoutSession({ userId: 'kim', credits: '9' }),
    )
    const { body, signature } = sign(payload)
    const post = (text: string, headers: Record<string, string>) =>
      handler(new Request('http://127.0.0.1/', { method: 'POST', headers, body: text }))
    const tampered = await post(body.replace('"9"', '"9000"'), { 'stripe-signature': signature })
    expect(tampered.status).toBe(400)
    expect(tampered.headers.get('content-type')).toBe('application/problem+json')
    expect(await tampered.json()).toMatchObject({ title: 'Invalid signature', status: 400 })
    const wrongSecret = sign(payload, { secret: 'whsec_someone_else' })
    expect(
      (await post(wrongSecret.body, { 'stripe-signature': wrongSecret.signature })).status,
    ).toBe(400)
    // Older than Stripe's tolerance (300 s): a replayed request.
    const old = sign(payload, { timestamp: Math.floor(Date.now() / 1000) - 600 })
    const replayed = await post(old.body, { 'stripe-signature': old.signature })
    expect(replayed.status).toBe(400)
    expect((await replayed.json()).detail).toMatch(/tolerance/i)
    expect((await post(body, {})).status).toBe(400)
    await expect(client.getUser('kim')).rejects.toMatchObject({ status: 404 })
  })

  it('acknowledges events it does not act on', async () => {
    const outcome = await deliver(
      webhook(),
      event('customer.created', { id: 'cus_1', object: 'customer' }),
    )
    expect(outcome).toMatchObject({ status: 200, body: { outcome: 'ignored' } })
  })

  it('answers 500 while Credly is unreachable, so Stripe retries; the retry applies once', async () => {
    const down = stripeWebhook({
      client: credly.client({ baseUrl: 'http://127.0.0.1:9', maxRetries: 0 }),
      stripe,
      webhookSecret: WEBHOOK_SECRET,
      tiers: {},
      log: () => {},
    })
    const completed = event(
      'checkout.session.completed',
      checkoutSession({ userId: 'lu', credits: '7' }),
    )
    expect((await deliver(down, completed)).status).toBe(500)
    expect((await deliver(webhook(), completed)).status).toBe(200)
    expect((await deliver(webhook(), completed)).status).toBe(200)
    expect(await client.getBalance('lu')).toMatchObject({ balance: 17 })
  })
})
