import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ValidationError } from 'credly'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createLocalClient, type LocalClient } from '../src/index.ts'
import { createTestClock } from '../src/testing/index.ts'
import {
  dropSchema,
  newSchemaName,
  postgresAvailable,
  postgresUrl,
} from '../src/testing/postgres.ts'

const config = {
  models: { 'gpt-4o': { input: 2.5, output: 10 } },
  tiers: {
    free: { credits: 100, refill: { every: 'month', policy: 'replace' } },
    pro: { credits: 5000 },
  },
} as const

const withPostgres = await postgresAvailable()
let folder: string
const clients: LocalClient[] = []
const open = (options: Partial<Parameters<typeof createLocalClient>[0]> = {}) => {
  const client = createLocalClient({ database: join(folder, 'credly.db'), config, ...options })
  clients.push(client)
  return client
}

beforeEach(() => {
  folder = mkdtempSync(join(tmpdir(), 'credly-local-'))
})
afterEach(async () => {
  for (const client of clients.splice(0)) await client.close()
  rmSync(folder, { recursive: true, force: true })
})

describe('createLocalClient', () => {
  it('meters a call end to end with captureUsage, creating the user on the default tier', async () => {
    const credly = open()
    const outcome = await credly.captureUsage({
      user_id: 'user_42',
      model: 'gpt-4o',
      provisional_tokens: { input_tokens: 1_000_000, output_tokens: 1_000_000 },
      execute: async () => ({ usage: { prompt: 400_000, completion: 100_000 } }),
      finalizeTokens: (result) => ({
        input_tokens: result.usage.prompt,
        output_tokens: result.usage.completion,
      }),
    })
    expect(outcome).toMatchObject({
      status: 'executed_success',
      credits_used: 2,
      balance: 98,
      balanceAdjustment: 10.5,
    })
    expect(await credly.getUser('user_42')).toMatchObject({ tier_id: 'free', balance: 98, held: 0 })
    expect((await credly.ledger.verify(credly.projectId)).ok).toBe(true)
    expect((await credly.verify()).ok).toBe(true)
    // The engine's verify takes the project id; without one it says which call to make.
    await expect((credly.ledger.verify as () => Promise<unknown>)()).rejects.toThrow(
      /credly\.verify\(\) checks its own project/,
    )
  })

  it('keeps balances in the file across a restart', async () => {
    const first = open()
    await first.createUser({ user_id: 'durable', tier_id: 'pro' })
    const start = await first.startUsageTransaction({
      user_id: 'durable',
      model: 'gpt-4o',
      provisional_tokens: { output_tokens: 1_000_000 },
    })
    await first.close()

    const second = open()
    expect(await second.getBalance('durable')).toEqual({
      user_id: 'durable',
      balance: 4990,
      held: 10,
    })
    const done = await second.completeUsageTransaction({
      transaction_id: start.transaction_id as string,
      success: true,
      finalized_tokens: { output_tokens: 500_000 },
    })
    expect(done).toMatchObject({ credits_used: 5, balance: 4995 })
  })

  it('reads the config from a JSON file, and explains a bad one', async () => {
    const path = join(folder, 'credly.json')
    writeFileSync(path, JSON.stringify(config))
    const credly = open({ config: path })
    expect((await credly.createUser({ user_id: 'filed' })).balance).toBe(100)

    expect(() =>
      createLocalClient({ database: ':memory:', config: join(folder, 'missing.json') }),
    ).toThrow(/Cannot read the Credly config file/)
    writeFileSync(path, '{ "models": ')
    expect(() => createLocalClient({ database: ':memory:', config: path })).toThrow(
      /not valid JSON/,
    )
    const invalid = (() => {
      try {
        createLocalClient({
          database: ':memory:',
          config: {
            models: {},
            tiers: { pro: { credits: 1, refill: { every: 'month', policy: 'rollover' } } },
          },
        })
      } catch (error) {
        return error
      }
    })() as ValidationError
    expect(invalid).toBeInstanceOf(ValidationError)
    expect(invalid.errors.map((error) => error.path)).toContain('tiers.pro.refill.max_balance')
  })

  it('applies a changed config on the next start, keeping balances', async () => {
    const first = open()
    await first.createUser({ user_id: 'kept' })
    await first.close()
    const second = open({
      config: { ...config, models: { 'gpt-4o-mini': { input: 0.15, output: 0.6 } } },
    })
    const start = await second.startUsageTransaction({ user_id: 'kept', model: 'gpt-4o-mini' })
    expect(start.continue).toBe(true)
    await expect(
      second.startUsageTransaction({ user_id: 'kept', model: 'gpt-4o' }),
    ).rejects.toThrow(/no price/)
  })

  it('refills lazily with a test clock', async () => {
    const clock = createTestClock('2026-03-31T00:00:00.000Z')
    const credly = createLocalClient({ database: ':memory:', config, clock })
    clients.push(credly)
    const user = await credly.createUser({ user_id: 'monthly' })
    expect(user.next_refill_at).toBe('2026-04-30T00:00:00.000Z')
    await credly.completeUsageTransaction({
      transaction_id: (await credly.startUsageTransaction({ user_id: 'monthly', model: 'gpt-4o' }))
        .transaction_id as string,
      success: true,
      finalized_tokens: { output_tokens: 5_000_000 },
    })
    expect((await credly.getBalance('monthly')).balance).toBe(50)
    clock.set('2026-04-30T00:00:00.000Z')
    expect((await credly.getBalance('monthly')).balance).toBe(100)
  })

  it.runIf(withPostgres)('runs on PostgreSQL when the database is a postgres:// URL', async () => {
    const schema = newSchemaName()
    try {
      const credly = createLocalClient({ database: postgresUrl, schema, config })
      clients.push(credly)
      await credly.createUser({ user_id: 'pg-user', tier_id: 'pro' })
      const outcome = await credly.captureUsage({
        user_id: 'pg-user',
        model: 'gpt-4o',
        provisional_tokens: { output_tokens: 1_000_000 },
        execute: () => 'ok',
        finalizeTokens: () => ({ output_tokens: 250_000 }),
      })
      expect(outcome).toMatchObject({
        status: 'executed_success',
        credits_used: 2.5,
        balance: 4997.5,
      })
      expect(credly.ledger.store.kind).toBe('postgres')
      await credly.close()
      clients.splice(clients.indexOf(credly), 1)
    } finally {
      await dropSchema(schema)
    }
  })
})
