import { expect, it } from 'vitest'

it('keeps the public surface stable', async () => {
  expect(Object.keys(await import('./index.ts')).sort()).toMatchSnapshot()
})

it('keeps the AI SDK 6 surface stable', async () => {
  expect(Object.keys(await import('./ai-v6.ts')).sort()).toMatchSnapshot()
})
