import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLocalClient, type LocalClient } from '@credly/ledger'
import { InsufficientCreditsError } from 'credly'
import { afterEach, beforeEach, expect, it } from 'vitest'
import { runAgent } from '../src/agent.ts'

/** The agent offline (its local model), metered on a SQLite file. */
let folder: string
let client: LocalClient
beforeEach(() => {
  delete process.env.OPENAI_API_KEY
  folder = mkdtempSync(join(tmpdir(), 'credly-agent-'))
  client = createLocalClient({
    database: join(folder, 'credly.db'),
    config: new URL('../credly.json', import.meta.url).pathname,
  })
})
afterEach(async () => {
  expect((await client.verify()).ok).toBe(true)
  await client.close()
  rmSync(folder, { recursive: true, force: true })
})

it('meters each step of a tool loop, under one feature, and the total is what the user paid', async () => {
  const run = await runAgent(client, 'ann', 'What is 12 times 34?')
  expect(run.text).toContain('408')
  expect(run.steps).toBe(2)
  const { data } = await client.getTransactions({ user_id: 'ann' })
  expect(data).toHaveLength(2)
  expect(data.every((t) => t.status === 'completed' && t.feature_identifier === 'agent')).toBe(true)
  const charged = data.reduce((sum, t) => sum + t.credits_used, 0)
  expect(run.credits).toBeCloseTo(charged, 6)
  expect((await client.getBalance('ann')).balance).toBeCloseTo(5 - charged, 6)
})

it('stops before the first step for a user who cannot pay', async () => {
  await client.createUser({ user_id: 'broke', tier_id: 'empty' })
  await expect(runAgent(client, 'broke', 'What is 2 times 3?')).rejects.toBeInstanceOf(
    InsufficientCreditsError,
  )
  expect((await client.getTransactions({ user_id: 'broke' })).data).toEqual([])
})
