/**
 * What metering adds to a model call: `generateText` on an unwrapped mock model (the baseline)
 * against the same model wrapped with `credlyMiddleware` on an embedded SQLite ledger (a start
 * and a complete per call), 16 calls in flight. Results are calls per second and their ratio.
 *
 *   pnpm bench
 */
import { createLocalClient } from '@credly/ledger'
import { generateText, wrapLanguageModel } from 'ai'
import { MockLanguageModelV4 } from 'ai/test'
import { credlyMiddleware } from '../src/index.ts'

const calls = process.argv.includes('--quick') ? 300 : 3000
const concurrency = 16

const mock = new MockLanguageModelV4({
  modelId: 'unit',
  doGenerate: async () => ({
    content: [{ type: 'text', text: 'ok' }],
    finishReason: { unified: 'stop', raw: 'stop' },
    usage: {
      inputTokens: { total: 10, noCache: 10, cacheRead: undefined, cacheWrite: undefined },
      outputTokens: { total: 5, text: 5, reasoning: undefined },
    },
    warnings: [],
  }),
})

async function drive(name: string, model: Parameters<typeof generateText>[0]['model']) {
  let next = 0
  const started = performance.now()
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (next < calls) {
        next++
        await generateText({
          model,
          prompt: 'hi',
          providerOptions: { credly: { userId: `u${worker}` } },
        })
      }
    }),
  )
  const perSecond = calls / ((performance.now() - started) / 1000)
  process.stderr.write(`  ${name}: ${Math.round(perSecond)} calls/s\n`)
  return { name, perSecond }
}

// The mock records every call; clear it so memory stays flat.
const base = await drive('generateText on an unwrapped mock model', mock)
mock.doGenerateCalls.length = 0
const ledger = createLocalClient({
  database: ':memory:',
  config: { models: { unit: { input: 1, output: 1 } }, tiers: { free: { credits: 1_000_000 } } },
})
const metered = await drive(
  'the same, wrapped with credlyMiddleware (embedded SQLite ledger)',
  wrapLanguageModel({ model: mock, middleware: credlyMiddleware({ client: ledger }) }),
)
if (!(await ledger.verify()).ok) throw new Error('verify failed after the middleware benchmark')
await ledger.close()

console.log('\n### AI SDK middleware\n')
console.log('| scenario | calls/s | ratio to baseline |')
console.log('|---|---:|---:|')
for (const result of [base, metered]) {
  console.log(
    `| ${result.name} | ${Math.round(result.perSecond)} | ${(result.perSecond / base.perSecond).toFixed(2)} |`,
  )
}
