import { CredlyApiError, parseOrThrow } from 'credly/internal'
import type { Context, Hono } from 'hono'
import type { ParamKeys } from 'hono/types'
import type { z } from 'zod'
import type { AppEnv } from './app-env.ts'
import { sendProblem } from './problems.ts'

/** Who may call a route: any key (`metering`), admin keys only, or anyone (`public`). */
export type RouteScope = 'metering' | 'admin' | 'public'

/** One route of the API: enough to register it and to describe it in the OpenAPI document. */
export type RouteSpec = {
  method: 'get' | 'post' | 'put' | 'delete'
  /** A Hono path, e.g. `/v1/users/:user_id`. */
  path: string
  operationId: string
  summary: string
  scope: RouteScope
  body?: z.ZodType
  query?: z.ZodType
  response: z.ZodType
  /** @default 200 */
  status?: 200 | 201
}

/** What a handler gets: the validated input and the caller's project. */
export type RouteInput<S extends RouteSpec> = {
  body: S['body'] extends z.ZodType ? z.output<S['body']> : undefined
  query: S['query'] extends z.ZodType ? z.output<S['query']> : undefined
  /** The path's parameters by name (`/v1/users/:user_id` gives `params.user_id`). */
  params: Record<ParamKeys<S['path']>, string>
  /** The caller's project; a public route has no caller. */
  projectId: S['scope'] extends 'public' ? undefined : string
  /** The `Idempotency-Key` header of a write, passed down so the ledger makes it exactly-once. */
  idempotencyKey: string | undefined
  c: Context<AppEnv>
}

/** Every route registered so far, in order, for the OpenAPI document. */
export type RouteRegistry = RouteSpec[]

/**
 * Registers a route: checks the key's scope, parses and validates the JSON body and query with
 * the shared wire schemas (a bad one is a 400 problem naming each field), runs the handler and
 * answers JSON. Errors propagate to the app's `onError`, which renders them as problems.
 */
export function defineRoute<const S extends RouteSpec>(
  app: Hono<AppEnv>,
  registry: RouteRegistry,
  spec: S,
  handler: (input: RouteInput<S>) => Promise<unknown>,
): void {
  registry.push(spec)
  app.on(spec.method.toUpperCase(), spec.path, async (c) => {
    c.set('operationId', spec.operationId)
    const auth = c.get('auth')
    if (spec.scope !== 'public' && !auth) {
      return sendProblem(c, 'unauthorized', 'Send an API key as "Authorization: Bearer <key>".')
    }
    if (spec.scope === 'admin' && auth?.scope !== 'admin') {
      return sendProblem(
        c,
        'forbidden',
        `${spec.operationId} needs an admin key; this is a ${auth?.scope} key.`,
      )
    }
    const body = spec.body ? parseOrThrow(spec.body, await readJson(c), 'request body') : undefined
    const query = spec.query ? parseOrThrow(spec.query, c.req.query(), 'query') : undefined
    const idempotencyKey = c.req.header('idempotency-key')
    if (
      idempotencyKey !== undefined &&
      (idempotencyKey.length === 0 || idempotencyKey.length > 255)
    ) {
      throw CredlyApiError.fromKind(
        'validation-error',
        'Idempotency-Key must be 1 to 255 characters.',
        { errors: [{ path: 'Idempotency-Key', message: 'must be 1 to 255 characters' }] },
      )
    }
    const result = await handler({
      body,
      query,
      params: c.req.param(),
      // Present for every route but a public one: a route with a scope refused a missing key above.
      projectId: auth?.project_id,
      idempotencyKey,
      c,
    } as RouteInput<S>)
    if (result instanceof Response) return result
    return c.json(result as object, spec.status ?? 200)
  })
}

async function readJson(c: Context): Promise<unknown> {
  const text = await c.req.text()
  if (text.length === 0) return {}
  try {
    return JSON.parse(text)
  } catch (cause) {
    throw CredlyApiError.fromKind(
      'validation-error',
      `The request body is not valid JSON: ${(cause as Error).message}`,
      { errors: [{ path: '', message: 'not valid JSON' }] },
    )
  }
}
