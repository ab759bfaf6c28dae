export { type StripeApiRequest, startFakeStripeApi } from './fake-stripe-api.ts'
export {
  checkoutSession,
  event,
  invoice,
  paymentIntent,
  signed,
  subscription,
} from './stripe-events.ts'
