import Stripe from 'stripe'

/*
 * Stripe events with the shapes of Stripe's API reference (API version 2026-10-28), signed the
 * way Stripe signs them, by the `stripe` package's own test-header helper. Only the fields a
 * webhook reads differ from one event to the next; the rest is as Stripe sends it.
 */

// Signing needs no API key and no network: the key only satisfies the constructor.
const signer = new Stripe('sk_test_signing_only')

let sequence = 0
const nextId = (prefix: string) => `${prefix}_test${String(++sequence).padStart(10, '0')}`
const now = () => Math.floor(Date.now() / 1000)

/** An event envelope around `object`. */
export function event(
  type: string,
  object: object,
  options: { id?: string; created?: number } = {},
) {
  return {
    id: options.id ?? nextId('evt'),
    object: 'event',
    api_version: '2026-10-28.endive',
    created: options.created ?? now(),
    data: { object },
    livemode: false,
    pending_webhooks: 1,
    request: { id: nextId('req'), idempotency_key: null },
    type,
  }
}

/**
 * The request Stripe would send: the JSON body and its Stripe-Signature header, signed with the
 * endpoint's `secret` at `timestamp` (seconds; default now).
 */
export function signed(
  payload: object,
  options: { secret: string; timestamp?: number },
): { body: string; signature: string } {
  const body = JSON.stringify(payload)
  const signature = signer.webhooks.generateTestHeaderString({
    payload: body,
    secret: options.secret,
    timestamp: options.timestamp,
  })
  return { body, signature }
}

/** A Checkout Session in payment mode, as `createTopUpCheckout` makes one. */
export function checkoutSession(fields: {
  userId?: string | null
  credits?: string
  expiresAt?: string
  paymentStatus?: 'paid' | 'unpaid' | 'no_payment_required'
  mode?: 'payment' | 'subscription'
}) {
  const metadata: Record<string, string> = {}
  if (fields.userId) metadata.credly_user_id = fields.userId
  if (fields.credits !== undefined) metadata.credly_credits = fields.credits
  if (fields.expiresAt !== undefined) metadata.credly_expires_at = fields.expiresAt
  return {
    id: nextId('cs'),
    object: 'checkout.session',
    amount_subtotal: 500,
    amount_total: 500,
    client_reference_id: fields.userId ?? null,
    created: now(),
    currency: 'usd',
    customer: null,
    livemode: false,
    metadata,
    mode: fields.mode ?? 'payment',
    payment_intent: nextId('pi'),
    payment_status: fields.paymentStatus ?? 'paid',
    status: 'complete',
    subscription: null,
    success_url: 'https://app.example/thanks',
    url: null,
  }
}

/** A Payment Intent an app created itself, with Credly metadata. */
export function paymentIntent(metadata: Record<string, string>) {
  return {
    id: nextId('pi'),
    object: 'payment_intent',
    amount: 500,
    amount_received: 500,
    currency: 'usd',
    created: now(),
    livemode: false,
    metadata,
    status: 'succeeded',
  }
}

/** A Subscription with one item at `price`, as `createSubscriptionCheckout` makes one. */
export function subscription(fields: {
  id?: string
  userId?: string
  price: string
  status: string
}) {
  const id = fields.id ?? nextId('sub')
  const start = now()
  return {
    id,
    object: 'subscription',
    cancel_at_period_end: false,
    created: start,
    currency: 'usd',
    customer: 'cus_test_credly',
    items: {
      object: 'list',
      data: [
        {
          id: nextId('si'),
          object: 'subscription_item',
          current_period_start: start,
          current_period_end: start + 30 * 86_400,
          price: {
            id: fields.price,
            object: 'price',
            active: true,
            currency: 'usd',
            product: 'prod_test_credly',
            recurring: { interval: 'month', interval_count: 1, usage_type: 'licensed' },
            type: 'recurring',
            unit_amount: 2000,
          },
          quantity: 1,
          subscription: id,
        },
      ],
      has_more: false,
      url: `/v1/subscription_items?subscription=${id}`,
    },
    livemode: false,
    metadata: fields.userId ? { credly_user_id: fields.userId } : {},
    status: fields.status,
  }
}

/** A paid invoice of a subscription, for a renewal (`subscription_cycle`) or the first period. */
export function invoice(fields: {
  subscription: string
  userId: string
  price: string
  billingReason?: 'subscription_cycle' | 'subscription_create'
}) {
  return {
    id: nextId('in'),
    object: 'invoice',
    amount_paid: 2000,
    billing_reason: fields.billingReason ?? 'subscription_cycle',
    created: now(),
    currency: 'usd',
    customer: 'cus_test_credly',
    lines: {
      object: 'list',
      data: [
        {
          id: nextId('il'),
          object: 'line_item',
          amount: 2000,
          currency: 'usd',
          pricing: {
            price_details: { price: fields.price, product: 'prod_test_credly' },
            type: 'price_details',
            unit_amount_decimal: '2000',
          },
          quantity: 1,
        },
      ],
      has_more: false,
    },
    livemode: false,
    parent: {
      quote_details: null,
      subscription_details: {
        metadata: { credly_user_id: fields.userId },
        subscription: fields.subscription,
      },
      type: 'subscription_details',
    },
    status: 'paid',
  }
}
