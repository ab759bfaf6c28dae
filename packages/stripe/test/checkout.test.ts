import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createSubscriptionCheckout, createTopUpCheckout } from '../src/index.ts'
import { type StripeApiRequest, startFakeStripeApi } from '../src/testing/index.ts'

/**
 * Stripe's API cannot run here: a local stand-in answers as Stripe's API reference shows, so the
 * real `stripe` package sends its real requests, which the tests read back.
 */
let api: Awaited<ReturnType<typeof startFakeStripeApi>>
let seen: StripeApiRequest[]
beforeEach(async () => {
  api = await startFakeStripeApi()
  seen = api.requests
})
afterEach(async () => {
  await api.close()
})
const stripe = () => api.stripe

describe('checkout sessions', () => {
  it('a top-up carries the user and the credits the webhook grants', async () => {
    const session = await createTopUpCheckout({
      stripe: stripe(),
      userId: 'user_42',
      credits: 500,
      price: 'price_top_up_500',
      expiresAt: '2099-01-01T00:00:00.000Z',
      successUrl: 'https://app.example/thanks',
      cancelUrl: 'https://app.example/pricing',
      params: { customer_email: 'ann@example.com', metadata: { campaign: 'winter' } },
    })
    expect(session.url).toBe('https://checkout.stripe.com/c/pay/cs_test_fake1')
    const [request] = seen
    expect(request?.path).toBe('/v1/checkout/sessions')
    expect(request?.params).toMatchObject({
      mode: 'payment',
      'line_items[0][price]': 'price_top_up_500',
      'line_items[0][quantity]': '1',
      client_reference_id: 'user_42',
      'metadata[credly_user_id]': 'user_42',
      'metadata[credly_credits]': '500',
      'metadata[credly_expires_at]': '2099-01-01T00:00:00.000Z',
      'metadata[campaign]': 'winter',
      customer_email: 'ann@example.com',
      success_url: 'https://app.example/thanks',
      cancel_url: 'https://app.example/pricing',
    })
  })

  it('a subscription puts the user on the subscription itself, whose events the webhook reads', async () => {
    await createSubscriptionCheckout({
      stripe: stripe(),
      userId: 'user_42',
      price: 'price_pro_monthly',
      trialDays: 14,
      successUrl: 'https://app.example/thanks',
    })
    expect(seen[0]?.params).toMatchObject({
      mode: 'subscription',
      'line_items[0][price]': 'price_pro_monthly',
      client_reference_id: 'user_42',
      'subscription_data[metadata][credly_user_id]': 'user_42',
      'subscription_data[trial_period_days]': '14',
    })
  })

  it('refuses a top-up of no credits before calling Stripe', () => {
    expect(() =>
      createTopUpCheckout({
        stripe: stripe(),
        userId: 'u',
        credits: 0,
        price: 'price_x',
        successUrl: 'https://app.example/',
      }),
    ).toThrow(/positive number of credits/)
    expect(seen).toHaveLength(0)
  })
})
