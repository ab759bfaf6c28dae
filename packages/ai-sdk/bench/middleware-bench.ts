/**
 * What metering adds to a model call: `generateText` on an unwrapped mock model (the baseline)
 * against the same model wrapped with `credlyMiddleware` on an embedded SQLite ledger (a start
 * and a complete per call): calls per second with 16 in flight and their ratio, then one call at
 * a time, the median time a call takes and what the middleware adds to it (the measure).
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

/** The median time of one call after another, in microseconds. */
async function medianMicros(model: Parameters<typeof generateText>[0]['model']): Promise<number> {
  const times: number[] = []
  for (let index = 0; index < calls; index++) {
    const started = performance.now()
    await generateText({ model, prompt: 'hi', providerOptions: { credly: { userId: 'solo' } } })
    times.push((performance.now() - started) * 1000)
    mock.doGenerateCalls.length = 0
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)] as number
}

// The mock records every call; clear it so memory stays flat.
const base = await drive('generateText on an unwrapped mock model', mock)
mock.doGenerateCalls.length = 0
const ledger = createLocalClient({
  database: ':memory:',
  config: { models: { unit: { input: 1, output: 1 } }, tiers: { free: { credits: 1_000_000 } } },
})
const wrapped = wrapLanguageModel({ model: mock, middleware: credlyMiddleware({ client: ledger }) })
const metered = await drive(
  'the same, wrapped with credlyMiddleware (embedded SQLite ledger)',
  wrapped,
)
// One call at a time, the two alternating so that both see the same machine.
const medians = { base: [] as number[], metered: [] as number[] }
for (let round = 0; round < 3; round++) {
  medians.base.push(await medianMicros(mock))
  medians.metered.push(await medianMicros(wrapped))
}
if (!(await ledger.verify()).ok) throw new Error('verify failed after the middleware benchmark')
await ledger.close()
const middle = (values: number[]) => values.sort((a, b) => a - b)[1] as number
const added = middle(medians.metered.map((value, index) => value - (medians.base[index] as number)))
process.stderr.write(`  one call at a time: the middleware adds ${Math.round(added)} us (median)\n`)

console.log('\n### AI SDK middleware\n')
console.log('| scenario | calls/s | ratio to baseline |')
console.log('|---|---:|---:|')
for (const result of [base, metered]) {
  console.log(
    `| ${result.name} | ${Math.round(result.perSecond)} | ${(result.perSecond / base.perSecond).toFixed(2)} |`,
  )
}
console.log('\n| one call at a time | median us per call |')
console.log('|---|---:|')
console.log(`| generateText on the unwrapped mock | ${Math.round(middle(medians.base))} |`)
console.log(`| wrapped with credlyMiddleware | ${Math.round(middle(medians.metered))} |`)
console.log(`| added by the middleware (goal: 50) | ${Math.round(added)} |`)
