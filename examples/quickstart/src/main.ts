/**
 * The Credly client end to end: a user, a metered "model call" through captureUsage, a refused
 * call, a top-up, and the transaction history. It talks HTTP to a wire-contract server started in
 * this process (`credly/testing`); point `baseUrl` at `credly serve` to use a real one.
 */
import { createClient } from 'credly'
import { API_KEY, ContractServer, PROJECT_ID } from 'credly/testing'

const server = new ContractServer()
const baseUrl = await server.listen()
const credly = createClient({ apiKey: API_KEY, projectId: PROJECT_ID, baseUrl })

try {
  const user = await credly.createUser({ user_id: 'user_42' })
  console.log(`created ${user.user_id} on tier "${user.tier_id}" with ${user.balance} credits`)

  // A stand-in for a model call that reports its usage like the OpenAI API does.
  const fakeModelCall = async (prompt: string) => ({
    text: `echo: ${prompt}`,
    usage: { prompt_tokens: 1_200_000, completion_tokens: 400_000 },
  })

  const outcome = await credly.captureUsage({
    user_id: 'user_42',
    model: 'gpt-4o',
    feature_identifier: 'chat',
    // Reserve for up to 2M prompt tokens and 1M completion tokens (2.5 and 10 credits per million).
    provisional_tokens: { input_tokens: 2_000_000, output_tokens: 1_000_000 },
    execute: () => fakeModelCall('hello'),
    finalizeTokens: (result) => ({
      input_tokens: result.usage.prompt_tokens,
      output_tokens: result.usage.completion_tokens,
    }),
  })
  if (outcome.status === 'executed_success') {
    console.log(
      `call answered "${outcome.result.text}": charged ${outcome.credits_used} credits, ` +
        `refunded ${outcome.balanceAdjustment} of the reservation, balance now ${outcome.balance}`,
    )
  }

  const tooBig = await credly.startUsageTransaction({
    user_id: 'user_42',
    model: 'gpt-4o',
    provisional_tokens: { output_tokens: 50_000_000 },
  })
  console.log(
    `a call reserving 500 credits: continue=${tooBig.continue} (${tooBig.reason}): ${tooBig.message}`,
  )

  await credly.grantCredits({ user_id: 'user_42', credits: 500, reason: 'top-up #1' })
  const retry = await credly.startUsageTransaction({
    user_id: 'user_42',
    model: 'gpt-4o',
    provisional_tokens: { output_tokens: 50_000_000 },
  })
  console.log(`after a 500-credit top-up: continue=${retry.continue}, balance ${retry.balance}`)
  if (retry.transaction_id) {
    await credly.completeUsageTransaction({
      transaction_id: retry.transaction_id,
      success: true,
      finalized_tokens: { input_tokens: 10_000, output_tokens: 30_000 },
    })
  }

  const history = await credly.getTransactions({ user_id: 'user_42' })
  console.log('history, newest first:')
  for (const transaction of history.data) {
    console.log(
      `  ${transaction.id} ${transaction.model} ${transaction.status} reserved ${transaction.credits_reserved} used ${transaction.credits_used}`,
    )
  }
  const balance = await credly.getBalance('user_42')
  console.log(`final balance: ${balance.balance} credits (${balance.held} held)`)
} finally {
  await server.close()
}
