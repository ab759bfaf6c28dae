import {
  ConflictError,
  CredlyApiError,
  type CredlyClient,
  type ProblemSlug,
  problemBody,
} from 'credly/internal'
import type Stripe from 'stripe'
import { type EventPlan, planEvent } from './events.ts'

/** Options of `stripeWebhook`. */
export type StripeWebhookOptions = {
  /** A Credly client with an admin key: grants and tier changes are admin operations. */
  client: CredlyClient
  /** The app's `stripe` instance; its webhook verification checks each event. */
  stripe: Stripe
  /** The endpoint's signing secret (`whsec_...`). */
  webhookSecret: string
  /** Which Credly tier each Stripe price id puts a subscriber on. */
  tiers: Record<string, string>
  /**
   * The tier a user goes back to when the subscription is canceled, unpaid or deleted.
   * @default the project's default tier
   */
  endedTier?: string
  /**
   * `tier`: tier credits refill on the tier's own clock. `invoice`: each paid renewal invoice
   * (`invoice.paid`, `subscription_cycle`) replaces the tier credits, so credits arrive when the
   * money does; give such tiers `"refill": { "every": "none" }`. @default "tier"
   */
  refillOn?: 'tier' | 'invoice'
  /** Seconds an event's signature stays valid. @default Stripe's own (300) */
  tolerance?: number
  /** Where each event's outcome is told. @default console (info, warn, error) */
  log?: (level: 'info' | 'warn' | 'error', message: string, event: WebhookLogContext) => void
}

/** What a log line of the webhook names. */
export type WebhookLogContext = { event_id: string; type: string }

/** What the handler answered Stripe, as JSON: what it did with the event. */
export type WebhookOutcome = {
  received: true
  event_id: string
  outcome: 'granted' | 'tier_changed' | 'ignored' | 'failed'
  detail: string
}

/**
 * A Fetch-style handler for Stripe's webhooks: verifies each event's signature with the `stripe`
 * package, then turns paid checkouts into grants and subscriptions into tiers, exactly once
 * (the event id is the idempotency key of what it does). Mount it as it is in Hono
 * (`app.post('/stripe', (c) => handler(c.req.raw))`) and Next.js (`export const POST = handler`);
 * in Express with `fetchHandler` from `@credly/express`.
 *
 * Answers 400 for a bad signature, 500 when Credly could not be reached (Stripe retries), and
 * 200 for everything else, including events it ignores or cannot apply (logged, never retried).
 */
export function stripeWebhook(
  options: StripeWebhookOptions,
): (request: Request) => Promise<Response> {
  const log = options.log ?? defaultLog
  const plan = {
    tiers: options.tiers,
    endedTier: options.endedTier,
    refillOn: options.refillOn ?? 'tier',
  } as const
  return async (request) => {
    const signature = request.headers.get('stripe-signature')
    if (!signature)
      return problem('invalid-signature', 'The request has no Stripe-Signature header.')
    const body = await request.text()
    let event: Stripe.Event
    try {
      event = await options.stripe.webhooks.constructEventAsync(
        body,
        signature,
        options.webhookSecret,
        options.tolerance,
      )
    } catch (error) {
      return problem(
        'invalid-signature',
        `The Stripe signature does not verify: ${(error as Error).message}`,
      )
    }
    const context = { event_id: event.id, type: event.type }
    const answer = (outcome: WebhookOutcome['outcome'], detail: string, status = 200) =>
      Response.json(
        { received: true, event_id: event.id, outcome, detail } satisfies WebhookOutcome,
        { status },
      )
    const planned = planEvent(event, plan)
    if (planned.kind === 'ignore') {
      log(planned.level, planned.reason, context)
      return answer('ignored', planned.reason)
    }
    try {
      const detail = await apply(options.client, planned, event, plan.tiers)
      log('info', detail, context)
      return answer(planned.kind === 'grant' ? 'granted' : 'tier_changed', detail)
    } catch (error) {
      // Credly refused (a bad amount, an unknown tier): retrying cannot help. Acknowledge it, say
      // why; after fixing the cause, resend the event from Stripe's dashboard.
      if (error instanceof CredlyApiError && error.status < 500) {
        const detail = `Credly refused ${event.type}: ${error.message}`
        log('error', detail, context)
        return answer('failed', detail)
      }
      // Credly unreachable or failing: Stripe retries, and the event id keeps it exactly once.
      const detail = `Credly could not apply ${event.type}: ${(error as Error).message}`
      log('error', detail, context)
      return answer('failed', detail, 500)
    }
  }
}

/**
 * Applies a grant or a tier change, keyed by the event id; resolves to what it did. `tiers`: the
 * tier each price maps to.
 */
async function apply(
  client: CredlyClient,
  planned: Exclude<EventPlan, { kind: 'ignore' }>,
  event: Stripe.Event,
  tiers: Record<string, string>,
): Promise<string> {
  const idempotencyKey = `stripe:${event.id}`
  const user = await ensureUser(client, planned.userId)
  if (planned.kind === 'grant') {
    const grant = await client.grantCredits(
      {
        user_id: planned.userId,
        credits: planned.credits,
        expires_at: planned.expiresAt,
        reason: `Stripe ${planned.paidBy}`,
      },
      { idempotencyKey },
    )
    return `granted ${grant.credits} credits to ${planned.userId} (${planned.paidBy})`
  }
  // No tier named: the project's default, whose id the webhook does not know. It is a change when
  // the user is on a tier a price maps to; Stripe tells an end twice (updated to canceled, then
  // deleted), and the second finds the user off it already, so the balance is reset once.
  const changes =
    planned.tierId === undefined
      ? Object.values(tiers).includes(user.tier_id)
      : planned.tierId !== user.tier_id
  const changed = await client.changeUserTier(
    {
      user_id: planned.userId,
      tier_id: planned.tierId,
      // Stripe's event time: an event older than the last one applied changes nothing.
      as_of: new Date(event.created * 1000).toISOString(),
      reset_balance: planned.reset === 'always' || changes,
    },
    { idempotencyKey },
  )
  return `${planned.userId} is on tier ${changed.tier_id} (subscription ${planned.subscription})`
}

/** The user, created on the default tier if new (a buyer may pay before their first call). */
async function ensureUser(client: CredlyClient, userId: string) {
  try {
    return await client.getUser(userId)
  } catch (error) {
    if (!(error instanceof CredlyApiError) || error.status !== 404) throw error
  }
  try {
    return await client.createUser({ user_id: userId })
  } catch (error) {
    // Created meanwhile by a concurrent event or request.
    if (error instanceof ConflictError) return client.getUser(userId)
    throw error
  }
}

function problem(slug: ProblemSlug, detail: string): Response {
  const body = problemBody(slug, detail)
  return new Response(JSON.stringify(body), {
    status: body.status,
    headers: { 'content-type': 'application/problem+json' },
  })
}

function defaultLog(level: 'info' | 'warn' | 'error', message: string, event: WebhookLogContext) {
  console[level](`credly stripe: ${message} [${event.type} ${event.event_id}]`)
}
