import { expect, it } from 'vitest'

it('keeps the public surface stable', async () => {
  expect(Object.keys(await import('./index.ts')).sort()).toMatchSnapshot()
  expect(Object.keys(await import('./testing/index.ts')).sort()).toMatchSnapshot()
  expect(Object.keys(await import('./cli/main.ts')).sort()).toMatchSnapshot()
})
