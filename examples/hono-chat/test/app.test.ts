import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLocalClient, type LocalClient } from '@credly/ledger'
import { afterEach, beforeEach, expect, it } from 'vitest'
import { createChatApp } from '../src/app.ts'

/** The example through Hono's own request handling, offline, on a SQLite file. */
let folder: string
let client: LocalClient
let app: ReturnType<typeof createChatApp>
beforeEach(() => {
  delete process.env.OPENAI_API_KEY
  folder = mkdtempSync(join(tmpdir(), 'credly-hono-chat-'))
  client = createLocalClient({
    database: join(folder, 'credly.db'),
    config: new URL('../credly.json', import.meta.url).pathname,
  })
  app = createChatApp(client)
})
afterEach(async () => {
  expect((await client.verify()).ok).toBe(true)
  await client.close()
  rmSync(folder, { recursive: true, force: true })
})

const chat = (user: string, prompt: string) =>
  app.request('/api/chat', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-user-id': user },
    body: JSON.stringify({ prompt }),
  })

it('streams an answer and charges the user what the model used, at the catalog price', async () => {
  const response = await chat('ann', 'Hello there')
  expect(response.status).toBe(200)
  expect(await response.text()).toContain('You said: "Hello there"')
  const [transaction] = (await client.getTransactions({ user_id: 'ann' })).data
  expect(transaction).toMatchObject({
    status: 'completed',
    feature_identifier: '/api/chat',
    price_source: { from: 'catalog', model: 'gpt-4o-mini' },
  })
  const balance = await (
    await app.request('/api/balance', { headers: { 'x-user-id': 'ann' } })
  ).json()
  expect(balance).toEqual({ balance: 5 - (transaction?.credits_used ?? 0) })
})

it('answers 402 before calling the model for a user without credits', async () => {
  await client.createUser({ user_id: 'broke', tier_id: 'empty' })
  const refused = await chat('broke', 'Hello')
  expect(refused.status).toBe(402)
  expect((await client.getTransactions({ user_id: 'broke' })).data).toEqual([])
})
