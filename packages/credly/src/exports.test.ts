import { readFileSync } from 'node:fs'
import { expect, it } from 'vitest'
import { VERSION } from './version.ts'

it('keeps the public surface stable', async () => {
  expect(Object.keys(await import('./index.ts')).sort()).toMatchSnapshot()
})

it('reports the package.json version', () => {
  const packageJson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
  expect(VERSION).toBe(packageJson.version)
})
