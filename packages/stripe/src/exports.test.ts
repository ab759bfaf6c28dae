import { expect, it } from 'vitest'

it('keeps the public surface stable', async () => {
  expect(Object.keys(await import('./index.ts')).sort()).toMatchSnapshot()
})
