import { createLocalClient } from '@credly/ledger'
import { runAgent } from './agent.ts'

// node src/main.ts "What is 12 times 34?" [user]
const question = process.argv[2] ?? 'What is 12 times 34?'
const userId = process.argv[3] ?? 'demo-user'
const client = createLocalClient({
  database: process.env.CREDLY_DATABASE ?? './agent.db',
  config: new URL('../credly.json', import.meta.url).pathname,
})
const run = await runAgent(client, userId, question)
console.log(run.text)
console.log(
  `${run.steps} model calls, ${run.credits} credits; ${userId} has ${(await client.getBalance(userId)).balance} left.`,
)
await client.close()
