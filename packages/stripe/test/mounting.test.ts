import { fetchHandler } from '@credly/express'
import { createTestServer, type TestServer } from '@credly/server/testing'
import express from 'express'
import { Hono } from 'hono'
import { afterEach, beforeEach, expect, it } from 'vitest'
import { stripeWebhook } from '../src/index.ts'
import { checkoutSession, event } from '../src/testing/index.ts'
import { sign, stripe, WEBHOOK_SECRET } from './fixtures.ts'

/** The one handler mounted in Express (through fetchHandler) and Hono, served on 127.0.0.1. */
let credly: TestServer
beforeEach(async () => {
  credly = await createTestServer()
})
afterEach(async () => {
  expect((await credly.ledger.verify(credly.projectId)).differences).toEqual([])
  await credly.close()
})

const handler = () =>
  stripeWebhook({
    client: credly.client(),
    stripe,
    webhookSecret: WEBHOOK_SECRET,
    tiers: {},
    log: () => {},
  })

async function postSigned(url: string, userId: string) {
  const { body, signature } = sign(
    event('checkout.session.completed', checkoutSession({ userId, credits: '42' })),
  )
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'stripe-signature': signature },
    body,
  })
}

it('Express: fetchHandler passes the raw body, with or without express.raw(), next to express.json()', async () => {
  const app = express()
  app.post('/webhooks/stripe', fetchHandler(handler()))
  app.post('/raw/stripe', express.raw({ type: 'application/json' }), fetchHandler(handler()))
  app.use(express.json())
  app.post('/parsed/stripe', fetchHandler(handler()))
  const server = app.listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`
  try {
    const response = await postSigned(`${base}/webhooks/stripe`, 'ann')
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({ outcome: 'granted' })
    expect((await postSigned(`${base}/raw/stripe`, 'ann')).status).toBe(200)
    // After express.json() the bytes are gone: an error, never a grant on a re-encoded body.
    expect((await postSigned(`${base}/parsed/stripe`, 'ann')).status).toBe(500)
    // The default tier's 100 credits, and two grants of 42.
    expect(await credly.client().getBalance('ann')).toMatchObject({ balance: 184 })
  } finally {
    await new Promise((resolve) => server.close(resolve))
  }
})

it('Hono: the handler takes c.req.raw as it is', async () => {
  const { serve } = await import('@hono/node-server')
  const app = new Hono()
  const webhook = handler()
  app.post('/webhooks/stripe', (c) => webhook(c.req.raw))
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' })
  await new Promise((resolve) => server.once('listening', resolve))
  try {
    const port = (server.address() as { port: number }).port
    const response = await postSigned(`http://127.0.0.1:${port}/webhooks/stripe`, 'bo')
    expect(await response.json()).toMatchObject({ outcome: 'granted' })
    expect(await credly.client().getBalance('bo')).toMatchObject({ balance: 142 })
  } finally {
    await new Promise((resolve) => server.close(resolve))
  }
})
