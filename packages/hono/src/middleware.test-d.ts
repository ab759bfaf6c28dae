import type { RequestCredly } from 'credly'
import { Hono } from 'hono'
import { expectTypeOf } from 'vitest'
import { type CredlyVariables, credly } from './index.ts'

// Chained: typed by the middleware's own generics.
new Hono().use(credly()).get('/', (c) => {
  expectTypeOf(c.var.credly).toEqualTypeOf<RequestCredly>()
  return c.text(c.var.credly.userId)
})

// Statement form: typed by the ContextVariableMap augmentation.
const app = new Hono()
app.use(credly())
app.get('/', (c) => {
  expectTypeOf(c.var.credly.userId).toEqualTypeOf<string>()
  return c.text('ok')
})

// Explicit variables.
new Hono<{ Variables: CredlyVariables }>().get('/', (c) => c.text(c.var.credly.userId))
