// After `changeset version`: credly's VERSION (sent in the User-Agent) follows its package.json.
import { readFileSync, writeFileSync } from 'node:fs'

const root = new URL('../packages/credly/', import.meta.url)
const { version } = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'))
const file = new URL('src/version.ts', root)
const source = readFileSync(file, 'utf8').replace(
  /export const VERSION = '[^']*'/,
  `export const VERSION = '${version}'`,
)
writeFileSync(file, source)
console.log(`credly VERSION is ${version}`)
