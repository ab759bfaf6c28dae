import type { RequestCredly } from 'credly'
import { Hono } from 'hono'
import { expectTypeOf } from 'vitest'
import { type CredlyEnv, credly } from './index.ts'

// Chained: typed by the middleware's own generics.
new Hono().use(credly()).get('/', (c) => {
  expectTypeOf(c.var.credly).toEqualTypeOf<RequestCredly>()
  return c.text(c.var.credly.userId)
})

// Statement form: the app declares the middleware's env.
const app = new Hono<CredlyEnv>()
app.use(credly())
app.get('/', (c) => {
  expectTypeOf(c.var.credly.userId).toEqualTypeOf<string>()
  return c.text('ok')
})

// A route of an app that never installed credly() cannot read c.var.credly.
new Hono().get('/', (c) => {
  // @ts-expect-error: no credly() on this app
  return c.text(c.var.credly.userId)
})
