/**
 * Credly end to end with the embedded ledger: one SQLite file, no server. A user on a monthly
 * tier, a metered "model call" through captureUsage, a call refused for lack of credits, a
 * top-up, the transaction history, and verify() replaying the journal.
 *
 * Swap `createLocalClient(...)` for `createClient({ apiKey, projectId, baseUrl })` to talk to a
 * Credly server instead; nothing else changes.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLocalClient } from '@credly/ledger'

const database = join(mkdtempSync(join(tmpdir(), 'credly-demo-')), 'credly.db')
const credly = createLocalClient({
  database,
  config: {
    // Credits per million tokens.
    models: { 'gpt-4o': { input: 2.5, cached_input: 1.25, output: 10 } },
    tiers: {
      free: { credits: 100, refill: { every: 'month', policy: 'replace' } },
      pro: { credits: 5000, refill: { every: 'month', policy: 'rollover', max_balance: 10000 } },
    },
  },
})
console.log(`ledger: ${database}`)

const user = await credly.createUser({ user_id: 'user_42' })
console.log(
  `created ${user.user_id} on tier "${user.tier_id}" with ${user.balance} credits, next refill ${user.next_refill_at}`,
)

// A stand-in for a model call that reports its usage the way the OpenAI API does.
const fakeModelCall = async (prompt: string) => ({
  text: `echo: ${prompt}`,
  usage: { prompt_tokens: 1_200_000, cached_tokens: 200_000, completion_tokens: 400_000 },
})

const outcome = await credly.captureUsage({
  user_id: 'user_42',
  model: 'gpt-4o',
  feature_identifier: 'chat',
  provisional_tokens: { input_tokens: 2_000_000, output_tokens: 1_000_000 },
  execute: () => fakeModelCall('hello'),
  finalizeTokens: (result) => ({
    input_tokens: result.usage.prompt_tokens,
    cached_input_tokens: result.usage.cached_tokens,
    output_tokens: result.usage.completion_tokens,
  }),
})
if (outcome.status === 'executed_success') {
  console.log(
    `call answered "${outcome.result.text}": charged ${outcome.credits_used} credits, ` +
      `${outcome.balanceAdjustment} of the reservation refunded, balance ${outcome.balance}`,
  )
}

const tooBig = await credly.startUsageTransaction({
  user_id: 'user_42',
  model: 'gpt-4o',
  provisional_tokens: { output_tokens: 50_000_000 },
})
console.log(
  `a call needing ${tooBig.credits_required} credits: continue=${tooBig.continue} (${tooBig.reason})`,
)

await credly.grantCredits({ user_id: 'user_42', credits: 500, reason: 'top-up #1' })
const retry = await credly.startUsageTransaction({
  user_id: 'user_42',
  model: 'gpt-4o',
  provisional_tokens: { output_tokens: 50_000_000 },
})
console.log(
  `after a 500-credit top-up: continue=${retry.continue}, ${retry.credits_used} held, balance ${retry.balance}`,
)
await credly.completeUsageTransaction({
  transaction_id: retry.transaction_id as string,
  success: true,
  finalized_tokens: { input_tokens: 10_000, output_tokens: 30_000 },
})

console.log('history, newest first:')
for (const transaction of (await credly.getTransactions({ user_id: 'user_42' })).data) {
  console.log(
    `  ${transaction.id} ${transaction.model} ${transaction.status}: reserved ${transaction.credits_reserved}, used ${transaction.credits_used}`,
  )
}
const balance = await credly.getBalance('user_42')
console.log(`balance: ${balance.balance} credits (${balance.held} held)`)

const report = await credly.ledger.verify(credly.projectId)
console.log(
  `verify: ${report.ok ? 'ok' : 'DIFFERENCES'}; ${report.checked.journal_entries} journal entries; ` +
    `granted ${report.totals.granted} = available ${report.totals.available} + held ${report.totals.held} + spent ${report.totals.spent} + expired ${report.totals.expired}`,
)
await credly.close()
if (!report.ok) process.exitCode = 1
