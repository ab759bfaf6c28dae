import type { RequestCredly } from 'credly'
import express from 'express'
import { expectTypeOf } from 'vitest'
import { getCredly } from './index.ts'

// Importing @credly/express types req.credly on every Express request.
express().get('/', (req) => {
  expectTypeOf(req.credly).toEqualTypeOf<RequestCredly | undefined>()
  expectTypeOf(getCredly(req).userId).toEqualTypeOf<string>()
  expectTypeOf(getCredly(req).signal).toEqualTypeOf<AbortSignal>()
})
