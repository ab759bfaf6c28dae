export {
  createSubscriptionCheckout,
  createTopUpCheckout,
  type SubscriptionCheckoutOptions,
  type TopUpCheckoutOptions,
} from './checkout.ts'
export { METADATA } from './events.ts'
export {
  type StripeWebhookOptions,
  stripeWebhook,
  type WebhookLogContext,
  type WebhookOutcome,
} from './webhook.ts'
