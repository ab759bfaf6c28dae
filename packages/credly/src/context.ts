import { AsyncLocalStorage } from 'node:async_hooks'
import type { CredlyClient } from './client.ts'

/**
 * What the Express, Hono and Next.js adapters know about the current request, so that a model
 * wrapped once at module scope with `credlyMiddleware` meters whoever makes the request.
 */
export type CredlyRequestContext = {
  /** The user the request's model calls are metered against. */
  userId: string
  /** The client the adapter uses; the middleware falls back to it when given none. */
  client?: CredlyClient
  /** Groups the request's transactions, e.g. the route. */
  featureIdentifier?: string
  /**
   * Whether the adapter's `requireCredits` gate refused users without credits before the
   * handler ran. Without it, a streamed response is already 200 when the model middleware refuses.
   */
  gated?: boolean
}

// One store per process, even when two copies of `credly` are installed: adapters and the AI
// SDK middleware may each resolve their own copy, and must still see the same context.
const storageKey = Symbol.for('credly.request-context')
const globals = globalThis as { [storageKey]?: AsyncLocalStorage<CredlyRequestContext> }
globals[storageKey] ??= new AsyncLocalStorage<CredlyRequestContext>()
const storage = globals[storageKey]

/** Runs `callback` with `context` as the current request's Credly context. */
export function runWithCredlyContext<T>(context: CredlyRequestContext, callback: () => T): T {
  return storage.run(context, callback)
}

/** The current request's Credly context, if an adapter set one. */
export function getCredlyContext(): CredlyRequestContext | undefined {
  return storage.getStore()
}
