import type { RequestCredly } from 'credly'
import { expectTypeOf } from 'vitest'
import { withCredits } from './index.ts'

type RouteContext = { params: Promise<{ id: string }> }

// The handler keeps Next's (request, context) shape, with `credly` added to the context.
const handler = withCredits<Request, RouteContext>(async (request, context) => {
  expectTypeOf(request).toEqualTypeOf<Request>()
  expectTypeOf(context.credly).toEqualTypeOf<RequestCredly>()
  expectTypeOf(context.params).toEqualTypeOf<Promise<{ id: string }>>()
  return Response.json({ user: context.credly.userId })
})

// What Next calls: the plain route context, no `credly` needed from the caller.
expectTypeOf(handler).parameters.toEqualTypeOf<[Request, RouteContext]>()
expectTypeOf(handler).returns.toEqualTypeOf<Promise<Response>>()

// Without type arguments, the context still carries Next's params (the documented example).
withCredits(async (_request, { credly, params }) => {
  expectTypeOf(await params).toEqualTypeOf<Record<string, string | string[] | undefined>>()
  return Response.json({ user: credly.userId })
})
