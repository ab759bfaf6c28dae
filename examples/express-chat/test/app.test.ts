import { mkdtempSync, rmSync } from 'node:fs'
import type { Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLocalClient, type LocalClient } from '@credly/ledger'
import { afterEach, beforeEach, expect, it } from 'vitest'
import { createChatApp } from '../src/app.ts'
import { chatModel } from '../src/model.ts'

/** The example as a client uses it, over HTTP, offline (the local model), on a SQLite file. */
let folder: string
let client: LocalClient
let server: Server
let base: string
beforeEach(async () => {
  delete process.env.OPENAI_API_KEY
  folder = mkdtempSync(join(tmpdir(), 'credly-express-chat-'))
  client = createLocalClient({
    database: join(folder, 'credly.db'),
    config: new URL('../credly.json', import.meta.url).pathname,
  })
  server = createChatApp({ client, model: chatModel() }).listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`
})
afterEach(async () => {
  await new Promise((resolve) => server.close(resolve))
  expect((await client.verify()).ok).toBe(true)
  await client.close()
  rmSync(folder, { recursive: true, force: true })
})

const chat = (user: string | undefined, prompt: string) =>
  fetch(`${base}/api/chat`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(user ? { 'x-user-id': user } : {}) },
    body: JSON.stringify({ prompt }),
  })

it('streams an answer and charges the user what the model used, at the catalog price', async () => {
  const response = await chat('ann', 'Hello there')
  expect(response.status).toBe(200)
  expect(await response.text()).toContain('You said')
  const [transaction] = (await client.getTransactions({ user_id: 'ann' })).data
  expect(transaction).toMatchObject({
    status: 'completed',
    model: 'gpt-4o-mini',
    feature_identifier: '/api/chat',
    price_source: { from: 'catalog', model: 'gpt-4o-mini' },
  })
  expect(transaction?.credits_used).toBeGreaterThan(0)
  const balance = await (
    await fetch(`${base}/api/balance`, { headers: { 'x-user-id': 'ann' } })
  ).json()
  expect(balance).toEqual({ balance: 5 - (transaction?.credits_used ?? 0) })
})

it('answers 402 before calling the model for a user without credits, and 401 without a user', async () => {
  await client.createUser({ user_id: 'broke', tier_id: 'empty' })
  const refused = await chat('broke', 'Hello')
  expect(refused.status).toBe(402)
  expect(refused.headers.get('content-type')).toContain('application/problem+json')
  expect((await client.getTransactions({ user_id: 'broke' })).data).toEqual([])
  expect((await chat(undefined, 'Hello')).status).toBe(401)
})
