import type Stripe from 'stripe'
import { METADATA } from './events.ts'

type CheckoutCommon = {
  stripe: Stripe
  /** The Credly user who pays and gets the credits or the tier. */
  userId: string
  /** A Stripe Price id (`price_...`): one-time for a top-up, recurring for a subscription. */
  price: string
  successUrl: string
  cancelUrl?: string
  /** Anything else for `stripe.checkout.sessions.create` (customer, customer_email, locale...). */
  params?: Partial<Stripe.Checkout.SessionCreateParams>
}

/** Options of `createTopUpCheckout`. */
export type TopUpCheckoutOptions = CheckoutCommon & {
  /** Credits the payment grants. */
  credits: number
  /** When the granted credits expire (ISO 8601). @default never */
  expiresAt?: string
}

/** Options of `createSubscriptionCheckout`. */
export type SubscriptionCheckoutOptions = CheckoutCommon & {
  /** Days of free trial (the tier applies while trialing). */
  trialDays?: number
}

/**
 * A Checkout Session that sells `credits` to `userId` at `price`: redirect the buyer to its
 * `url`. When it is paid, `stripeWebhook` grants the credits (once, however often Stripe sends
 * the event).
 */
export function createTopUpCheckout(
  options: TopUpCheckoutOptions,
): Promise<Stripe.Checkout.Session> {
  if (!Number.isFinite(options.credits) || options.credits <= 0)
    throw new TypeError(`credits must be a positive number of credits, not ${options.credits}`)
  const metadata = {
    ...options.params?.metadata,
    [METADATA.userId]: options.userId,
    [METADATA.credits]: String(options.credits),
    ...(options.expiresAt === undefined ? {} : { [METADATA.expiresAt]: options.expiresAt }),
  }
  return options.stripe.checkout.sessions.create({
    ...options.params,
    mode: 'payment',
    line_items: [{ price: options.price, quantity: 1 }],
    client_reference_id: options.userId,
    metadata,
    success_url: options.successUrl,
    ...(options.cancelUrl === undefined ? {} : { cancel_url: options.cancelUrl }),
  })
}

/**
 * A Checkout Session that subscribes `userId` to `price`: while the subscription is active (or
 * trialing), `stripeWebhook` keeps the user on the tier the price maps to.
 */
export function createSubscriptionCheckout(
  options: SubscriptionCheckoutOptions,
): Promise<Stripe.Checkout.Session> {
  const user = { [METADATA.userId]: options.userId }
  return options.stripe.checkout.sessions.create({
    ...options.params,
    mode: 'subscription',
    line_items: [{ price: options.price, quantity: 1 }],
    client_reference_id: options.userId,
    metadata: { ...options.params?.metadata, ...user },
    subscription_data: {
      ...options.params?.subscription_data,
      // The subscription's own metadata is what its events carry.
      metadata: { ...options.params?.subscription_data?.metadata, ...user },
      ...(options.trialDays === undefined ? {} : { trial_period_days: options.trialDays }),
    },
    success_url: options.successUrl,
    ...(options.cancelUrl === undefined ? {} : { cancel_url: options.cancelUrl }),
  })
}
