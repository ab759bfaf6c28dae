import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { createPackedApp, type PackedApp, publishedPackages, typecheck } from './packed-app.ts'

const run = promisify(execFile)

/**
 * Every TypeScript sample in README.md, docs/ and each package's README compiles against the packed packages with
 * TypeScript 5.x, `strict` and `skipLibCheck: false`, under `nodenext` and `bundler` resolution,
 * so the docs cannot drift from the types. A sample names what it uses; the few names a sample
 * takes from the page around it (the app's `openai` provider, its auth, a wrapped `model`) are
 * declared for it below, and only when the sample does not declare them itself.
 */
const root = new URL('../../', import.meta.url).pathname

/** Declarations of what samples take from their page, by name. */
const context: Record<string, (sample: string) => string> = {
  openai: (sample) =>
    /from '(ai|@credly\/ai-sdk)'/.test(sample)
      ? `declare const openai: import('@ai-sdk/openai').OpenAIProvider`
      : // The official OpenAI SDK's client, as much of it as the README uses.
        `declare const openai: { chat: { completions: { create(body: { model: string; messages: unknown[] }): Promise<{ usage: { prompt_tokens: number; completion_tokens: number } }> } } }`,
  messages: () => `declare const messages: Array<{ role: 'user'; content: string }>`,
  credly: () => `declare const credly: import('credly').CredlyClient`,
  prompt: () => 'declare const prompt: string',
  model: () => `declare const model: import('ai').LanguageModel`,
  yourAuth: () => `declare const yourAuth: import('express').RequestHandler`,
  auth: () => 'declare function auth(): Promise<{ user?: { id?: string } } | null>',
  handler: () => 'declare const handler: (request: Request) => Promise<Response>',
}

type Sample = { file: string; line: number; code: string }

function markdownFiles(): string[] {
  const docs = readdirSync(join(root, 'docs'), { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.md'))
    .map((name) => join(root, 'docs', name))
  const packageReadmes = readdirSync(join(root, 'packages')).map((name) =>
    join(root, 'packages', name, 'README.md'),
  )
  return [join(root, 'README.md'), ...docs, ...packageReadmes]
}

function samples(): Sample[] {
  const found: Sample[] = []
  for (const file of markdownFiles()) {
    const text = readFileSync(file, 'utf8')
    for (const match of text.matchAll(/```(?:ts|typescript)\n([\s\S]*?)```/g)) {
      found.push({
        file: relative(root, file),
        line: text.slice(0, match.index).split('\n').length + 1,
        code: match[1] as string,
      })
    }
  }
  return found
}

/** The sample as a module, with the page's context it does not declare itself. */
function asModule(sample: Sample): string {
  const declared = new Set(
    [
      ...sample.code.matchAll(/\bimport\s+(?:type\s+)?(?:(\w+)\s*,?\s*)?(?:\{([^}]*)\})?\s*from/g),
    ].flatMap((match) => [
      match[1],
      ...(match[2] ?? '').split(',').map((part) =>
        part
          .replace(/\btype\b/, '')
          .trim()
          .split(/\s+as\s+/)
          .pop(),
      ),
    ]),
  )
  for (const match of sample.code.matchAll(/\b(?:const|let|function)\s+(\w+)/g))
    declared.add(match[1])
  const prelude = Object.entries(context)
    .filter(([name]) => !declared.has(name) && new RegExp(`\\b${name}\\b`).test(sample.code))
    .map(([, declare]) => declare(sample.code))
  // The declarations go after the sample, so its lines keep their numbers in errors.
  return `${sample.code}\n${prelude.join('\n')}\nexport {}\n`
}

/** How an app that checks its libraries compiles: strict, `skipLibCheck: false`. */
const compilerOptions = {
  strict: true,
  skipLibCheck: false,
  noEmit: true,
  target: 'es2023',
  lib: ['es2023', 'dom'],
  types: ['node'],
}

describe('the docs', () => {
  let app: PackedApp
  const found = samples()
  beforeAll(async () => {
    app = await createPackedApp()
    const folder = join(app.dir, 'samples')
    mkdirSync(folder)
    found.forEach((sample, index) => {
      writeFileSync(join(folder, `sample-${index}.ts`), asModule(sample))
    })
    writeFileSync(
      join(app.dir, 'tsconfig.nodenext.json'),
      JSON.stringify({
        compilerOptions: { ...compilerOptions, module: 'nodenext', moduleResolution: 'nodenext' },
        include: ['samples/*.ts'],
      }),
    )
    writeFileSync(
      join(app.dir, 'tsconfig.bundler.json'),
      JSON.stringify({
        compilerOptions: { ...compilerOptions, module: 'esnext', moduleResolution: 'bundler' },
        include: ['samples/*.ts'],
      }),
    )
  })
  afterAll(() => {
    if (app && !process.env.CREDLY_KEEP_PACKED_APP)
      rmSync(app.dir, { recursive: true, force: true })
  })

  /** A packed package's tarball, by the start of its file name (`credly-ledger-`). */
  const tarball = (prefix: string) =>
    `file:${join(
      app.dir,
      'tarballs',
      readdirSync(join(app.dir, 'tarballs')).find((name) => name.startsWith(prefix)) as string,
    )}`
  /** Another app outside the workspace, with only these dependencies, removed after the test. */
  async function smallApp(prefix: string, dependencies: Record<string, string>): Promise<string> {
    const dir = mkdtempSync(join(tmpdir(), prefix))
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({ private: true, type: 'module', dependencies }),
    )
    await run(
      'npm',
      ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'],
      {
        cwd: dir,
        timeout: 180_000,
      },
    )
    return dir
  }

  it('packs what runs, its types, a README and the LICENSE; no build info, tests or snapshots', async () => {
    const tarballs = readdirSync(join(app.dir, 'tarballs'))
    expect(tarballs).toHaveLength(publishedPackages.length)
    for (const tarball of tarballs) {
      const { stdout } = await run('tar', ['tzf', join(app.dir, 'tarballs', tarball)])
      const files = stdout.split('\n').filter(Boolean)
      for (const needed of ['package/LICENSE', 'package/README.md', 'package/dist/index.js'])
        expect(files, `${tarball} lacks ${needed}`).toContain(needed)
      expect(
        files.filter((file) => /\.tsbuildinfo$|__snapshots__|\.test\.ts$|\.test-d\.ts$/.test(file)),
        tarball,
      ).toEqual([])
    }
  })

  it('npx credly runs the CLI, and says what to install where @credly/server is missing', async () => {
    const npx = (cwd: string, ...args: string[]) =>
      run('npx', ['--no-install', 'credly', ...args], { cwd }).then(
        ({ stdout }) => ({ code: 0, stdout, stderr: '' }),
        (error: { code: number; stdout: string; stderr: string }) => error,
      )
    expect((await npx(app.dir, '--version')).stdout.trim()).toMatch(/^\d+\.\d+\.\d+/)
    // An app with the client alone, outside the first (whose node_modules Node would find).
    const clientOnly = await smallApp('credly-client-only-', { credly: tarball('credly-0') })
    const missing = await npx(clientOnly, 'init', '--config', 'credly.json')
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain('npm install @credly/server')
  })

  it('@credly/ledger runs on SQLite without pg, and a postgres:// URL says to install it', async () => {
    const ledgerOnly = await smallApp('credly-ledger-only-', {
      credly: tarball('credly-0'),
      '@credly/ledger': tarball('credly-ledger-'),
    })
    writeFileSync(
      join(ledgerOnly, 'main.js'),
      `import { createLocalClient, createStore } from '@credly/ledger'
const credly = createLocalClient({ database: ':memory:', config: { models: { m: { input: 1, output: 1 } }, tiers: { free: { credits: 5 } } } })
console.log((await credly.createUser({ user_id: 'ann' })).balance)
await credly.close()
const store = createStore('postgres://nobody@127.0.0.1:1/none')
await store.read(async () => 0).catch((error) => console.log(error.message))
`,
    )
    const { stdout } = await run(process.execPath, ['main.js'], { cwd: ledgerOnly })
    expect(stdout).toContain('5\n')
    expect(stdout).toContain('npm install pg')
  })

  it('an AI SDK 6 app meters through @credly/ai-sdk/ai-v6: its types check and a call is charged', async () => {
    const dir = await smallApp('credly-ai-v6-', {
      credly: tarball('credly-0'),
      '@credly/ledger': tarball('credly-ledger-'),
      '@credly/ai-sdk': tarball('credly-ai-sdk-'),
      ai: '6.0.325',
      '@ai-sdk/provider': '3.0.19',
      '@types/json-schema': '7.0.15',
      '@types/node': '24.19.2',
      typescript: '5.9.3',
    })
    writeFileSync(
      join(dir, 'main.ts'),
      `import { createLocalClient } from '@credly/ledger'
import { credlyMiddleware, totalCreditsUsed } from '@credly/ai-sdk/ai-v6'
import { generateText, wrapLanguageModel } from 'ai'
import { MockLanguageModelV3 } from 'ai/test'

// Prices are credits per million tokens: a credit per input token, two per output token.
const client = createLocalClient({
  database: ':memory:',
  config: { models: { m: { input: 1_000_000, output: 2_000_000 } }, tiers: { free: { credits: 100 } } },
})
const model = wrapLanguageModel({
  model: new MockLanguageModelV3({
    modelId: 'm',
    doGenerate: async () => ({
      content: [{ type: 'text', text: 'Hi.' }],
      finishReason: { unified: 'stop', raw: 'stop' },
      usage: {
        inputTokens: { total: 7, noCache: 7, cacheRead: undefined, cacheWrite: undefined },
        outputTokens: { total: 3, text: 3, reasoning: undefined },
      },
      warnings: [],
    }),
  }),
  middleware: credlyMiddleware({ client, userId: 'ann', reservation: { estimateInputTokens: (prompt) => prompt.length } }),
})
const result = await generateText({ model, prompt: 'Hello', maxOutputTokens: 10 })
const { balance } = await client.getBalance('ann')
console.log(JSON.stringify({ text: result.text, credits: totalCreditsUsed(result.steps), balance }))
await client.close()
`,
    )
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          ...compilerOptions,
          module: 'nodenext',
          moduleResolution: 'nodenext',
          allowImportingTsExtensions: true,
        },
        include: ['main.ts'],
      }),
    )
    expect(await typecheck({ dir }, 'tsconfig.json')).toBe('')
    const { stdout } = await run(process.execPath, ['main.ts'], { cwd: dir })
    // 7 input tokens at 1 + 3 output tokens at 2.
    expect(JSON.parse(stdout)).toEqual({ text: 'Hi.', credits: 13, balance: 87 })
  })

  it('has TypeScript samples to check', () => {
    expect(found.length).toBeGreaterThanOrEqual(10)
  })

  it.each(['nodenext', 'bundler'])(
    'every TypeScript sample type-checks against the packed packages (%s, TypeScript 5)',
    async (resolution) => {
      const output = await typecheck(app, `tsconfig.${resolution}.json`)
      // Point each error at the Markdown line it comes from.
      const located = output.replace(
        /samples\/sample-(\d+)\.ts\((\d+),(\d+)\)/g,
        (_, index, line) => {
          const sample = found[Number(index)] as Sample
          return `${sample.file}:${sample.line + Number(line) - 1}`
        },
      )
      expect(located).toBe('')
    },
  )
})
