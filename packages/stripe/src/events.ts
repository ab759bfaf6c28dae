import type Stripe from 'stripe'

/*
 * What a Stripe event asks of Credly, read from the event alone (no Stripe API call): a grant, a
 * tier change, or nothing and why. Field paths cover the API versions Stripe still sends
 * (`parent.subscription_details` since 2025-03-31, `subscription_details` before).
 */

/** Metadata keys Credly reads from Checkout Sessions, Payment Intents and Subscriptions. */
export const METADATA = {
  userId: 'credly_user_id',
  credits: 'credly_credits',
  expiresAt: 'credly_expires_at',
} as const

/** What one event asks for. */
export type EventPlan =
  | {
      kind: 'grant'
      userId: string
      credits: number
      expiresAt: string | undefined
      /** The Stripe object the credits were paid by (shown as the grant's reason). */
      paidBy: string
    }
  | {
      kind: 'tier'
      userId: string
      /** undefined: the project's default tier. */
      tierId: string | undefined
      /**
       * When to replace the tier credits with the new tier's allocation: on every paid renewal
       * (`always`), or only when the tier changes (`on_change`: an update that keeps the tier, such
       * as a new card, must not refill).
       */
      reset: 'always' | 'on_change'
      subscription: string
    }
  | { kind: 'ignore'; reason: string; level: 'info' | 'warn' }

/** How events map to tiers. */
export type PlanOptions = {
  tiers: Record<string, string>
  endedTier: string | undefined
  refillOn: 'tier' | 'invoice'
}

const ACTIVE = new Set(['active', 'trialing'])
const ENDED = new Set(['canceled', 'unpaid', 'incomplete_expired'])

/** The plan for one verified event. */
export function planEvent(event: Stripe.Event, options: PlanOptions): EventPlan {
  switch (event.type) {
    case 'checkout.session.completed':
    case 'checkout.session.async_payment_succeeded':
      return planCheckout(event.data.object)
    case 'payment_intent.succeeded':
      return planPaymentIntent(event.data.object)
    case 'customer.subscription.created':
    case 'customer.subscription.updated':
    case 'customer.subscription.deleted':
      return planSubscription(event.data.object, event.type.endsWith('.deleted'), options)
    case 'invoice.paid':
      return planInvoice(event.data.object, options)
    default:
      return ignore(`${event.type} is not an event Credly acts on`, 'info')
  }
}

function planCheckout(session: Stripe.Checkout.Session): EventPlan {
  if (session.mode !== 'payment')
    return ignore(
      `checkout session ${session.id} is in ${session.mode} mode; its subscription's events set the tier`,
      'info',
    )
  if (session.payment_status === 'unpaid')
    return ignore(
      `checkout session ${session.id} is not paid yet (a delayed payment method); checkout.session.async_payment_succeeded grants the credits`,
      'info',
    )
  const metadata = session.metadata ?? {}
  return planGrant(session.id, session.client_reference_id ?? metadata[METADATA.userId], metadata)
}

function planPaymentIntent(intent: Stripe.PaymentIntent): EventPlan {
  const metadata = intent.metadata ?? {}
  // A Checkout Session's own payment intent carries no Credly metadata: the session grants.
  if (metadata[METADATA.credits] === undefined)
    return ignore(`payment intent ${intent.id} has no ${METADATA.credits} metadata`, 'info')
  return planGrant(intent.id, metadata[METADATA.userId], metadata)
}

function planGrant(
  paidBy: string,
  userId: string | null | undefined,
  metadata: Record<string, string>,
): EventPlan {
  if (!userId)
    return ignore(
      `${paidBy} names no user: set client_reference_id or metadata.${METADATA.userId} (createTopUpCheckout does)`,
      'warn',
    )
  const text = metadata[METADATA.credits]
  const credits = Number(text)
  if (text === undefined || !Number.isFinite(credits) || credits <= 0)
    return ignore(
      `${paidBy} has no valid metadata.${METADATA.credits} (a positive number of credits), got ${JSON.stringify(text)}`,
      'warn',
    )
  return { kind: 'grant', userId, credits, expiresAt: metadata[METADATA.expiresAt], paidBy }
}

function planSubscription(
  subscription: Stripe.Subscription,
  deleted: boolean,
  options: PlanOptions,
): EventPlan {
  const userId = subscription.metadata?.[METADATA.userId]
  if (!userId)
    return ignore(
      `subscription ${subscription.id} has no metadata.${METADATA.userId} (createSubscriptionCheckout sets it)`,
      'warn',
    )
  if (deleted || ENDED.has(subscription.status))
    return {
      kind: 'tier',
      userId,
      tierId: options.endedTier,
      reset: 'on_change',
      subscription: subscription.id,
    }
  if (!ACTIVE.has(subscription.status))
    return ignore(
      `subscription ${subscription.id} is ${subscription.status}; the tier changes when it is active, trialing, canceled or unpaid`,
      'info',
    )
  const prices = subscription.items.data.map((item) => item.price.id)
  const tierId = mappedTier(prices, options)
  if (tierId === undefined)
    return ignore(
      `subscription ${subscription.id} has no price in the tier map (prices: ${prices.join(', ')})`,
      'warn',
    )
  return { kind: 'tier', userId, tierId, reset: 'on_change', subscription: subscription.id }
}

function planInvoice(invoice: Stripe.Invoice, options: PlanOptions): EventPlan {
  if (options.refillOn !== 'invoice')
    return ignore('invoice.paid refills only with refillOn: "invoice"', 'info')
  if (invoice.billing_reason !== 'subscription_cycle')
    return ignore(
      `invoice ${invoice.id} is for ${invoice.billing_reason}, not a renewal; the subscription's events set the tier`,
      'info',
    )
  // Older API versions put the subscription's details on the invoice itself.
  const legacy = invoice as unknown as {
    subscription?: string | { id: string }
    subscription_details?: { metadata?: Record<string, string> | null }
  }
  const details = invoice.parent?.subscription_details
  const subscription = details?.subscription ?? legacy.subscription
  const subscriptionId = typeof subscription === 'string' ? subscription : subscription?.id
  const userId = (details?.metadata ?? legacy.subscription_details?.metadata)?.[METADATA.userId]
  if (!userId)
    return ignore(
      `invoice ${invoice.id} has no subscription metadata.${METADATA.userId} (createSubscriptionCheckout sets it)`,
      'warn',
    )
  const prices = invoice.lines.data.flatMap((line) => {
    const legacyLine = line as unknown as { price?: { id: string } | null }
    const price = line.pricing?.price_details?.price ?? legacyLine.price
    const id = typeof price === 'string' ? price : price?.id
    return id === undefined ? [] : [id]
  })
  const tierId = mappedTier(prices, options)
  if (tierId === undefined)
    return ignore(
      `invoice ${invoice.id} has no price in the tier map (prices: ${prices.join(', ')})`,
      'warn',
    )
  return {
    kind: 'tier',
    userId,
    tierId,
    reset: 'always',
    subscription: subscriptionId ?? invoice.id ?? 'unknown',
  }
}

/** The tier of the first price the map knows (own keys only: a price id is never a built-in). */
function mappedTier(prices: string[], options: PlanOptions): string | undefined {
  const price = prices.find((id) => Object.hasOwn(options.tiers, id))
  return price === undefined ? undefined : options.tiers[price]
}

function ignore(reason: string, level: 'info' | 'warn'): EventPlan {
  return { kind: 'ignore', reason, level }
}
