import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)
const root = new URL('../../', import.meta.url).pathname

/** The packages a user installs, by folder under packages/. */
export const publishedPackages = [
  'credly',
  'ledger',
  'ai-sdk',
  'express',
  'hono',
  'next',
  'server',
  'stripe',
]

/**
 * What an app next to Credly installs, at the versions the workspace tests (TOOLCHAIN.md).
 * TypeScript is 5.x: what most apps compile with, not the workspace's 7.
 */
const appDependencies = {
  ai: '7.0.173',
  '@ai-sdk/openai': '4.0.118',
  '@ai-sdk/provider': '4.0.38',
  express: '5.3.0',
  '@types/express': '5.0.6',
  hono: '4.13.19',
  stripe: '23.1.0',
  // @ai-sdk/provider's declarations import json-schema's types without depending on them: an
  // app that checks its libraries (skipLibCheck: false) has to install them itself.
  '@types/json-schema': '7.0.15',
  typescript: '5.9.3',
  '@types/node': '24.19.2',
}

/** An app outside the workspace with every package installed from its packed tarball by npm. */
export type PackedApp = { dir: string }

/**
 * Packs every published package (`pnpm pack`, as a release would) and installs the tarballs with
 * npm into a new folder under the system's temp dir, so nothing resolves through workspace links.
 * Peer dependencies are not installed by themselves (`--legacy-peer-deps`): the app lists what it
 * uses, as a real app does.
 */
export async function createPackedApp(): Promise<PackedApp> {
  const dir = mkdtempSync(join(tmpdir(), 'credly-packed-'))
  const tarballs = join(dir, 'tarballs')
  mkdirSync(tarballs)
  const dependencies: Record<string, string> = { ...appDependencies }
  for (const folder of publishedPackages) {
    const cwd = join(root, 'packages', folder)
    const { name, version } = JSON.parse(readFileSync(join(cwd, 'package.json'), 'utf8'))
    await run('pnpm', ['pack', '--pack-destination', tarballs], { cwd })
    // pnpm names a tarball after the package: @credly/ledger 0.1.0 is credly-ledger-0.1.0.tgz.
    dependencies[name] = `file:./tarballs/${name.replace('@', '').replace('/', '-')}-${version}.tgz`
  }
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'credly-packed-app', private: true, type: 'module', dependencies }),
  )
  await run(
    'npm',
    [
      'install',
      '--legacy-peer-deps',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      '--loglevel=error',
    ],
    { cwd: dir, timeout: 240_000 },
  )
  return { dir }
}

/** Runs the app's TypeScript 5 compiler on a tsconfig; resolves to its output (empty when clean). */
export async function typecheck(app: PackedApp, tsconfig: string): Promise<string> {
  try {
    await run(
      process.execPath,
      [join(app.dir, 'node_modules/typescript/bin/tsc'), '-p', tsconfig],
      {
        cwd: app.dir,
        maxBuffer: 16 << 20,
      },
    )
    return ''
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string; message: string }
    return `${failed.stdout ?? ''}${failed.stderr ?? ''}` || failed.message
  }
}
