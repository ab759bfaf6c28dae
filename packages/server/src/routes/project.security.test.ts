import { problemType } from 'credly'
import { afterEach, beforeEach, expect, it } from 'vitest'
import { type AppHarness, openAppHarness } from '../testing/app-harness.ts'

/** Rule 8: one project's key can neither read nor change another project's data. */
let h: AppHarness
let transactionId: string
let otherKeyId: string
beforeEach(async () => {
  h = await openAppHarness()
  await h.call('POST', '/v1/users', { key: h.other.adminKey, body: { user_id: 'victim' } })
  const started = await h.call('POST', '/v1/usage/start', {
    key: h.other.adminKey,
    body: { user_id: 'victim', model: 'unit', provisional_tokens: { output_tokens: 10 } },
  })
  transactionId = started.body.transaction_id
  otherKeyId = (await h.ledger.listApiKeys(h.other.id))[0]?.id as string
})
afterEach(async () => {
  expect(await h.ledger.getBalance(h.other.id, 'victim')).toEqual({
    user_id: 'victim',
    balance: 90,
    held: 10,
  })
  expect((await h.ledger.listApiKeys(h.other.id)).every((key) => key.revoked_at === null)).toBe(
    true,
  )
  await h.close()
})

it.each([
  ['GET', '/v1/users/victim', undefined, 'user-not-found'],
  ['GET', '/v1/users/victim/balance', undefined, 'user-not-found'],
  ['POST', '/v1/users/victim/grants', { credits: 5 }, 'user-not-found'],
  ['POST', '/v1/users/victim/tier', { tier_id: 'monthly', reset_balance: true }, 'user-not-found'],
  ['DELETE', '/v1/users/victim', undefined, 'user-not-found'],
  ['POST', '/v1/usage/start', { user_id: 'victim', model: 'unit' }, 'user-not-found'],
])('%s %s of another project answers 404', async (method, path, body, slug) => {
  const response = await h.call(method, path, { body })
  expect(response).toMatchObject({ status: 404, body: { type: problemType(slug as never) } })
})

it("cannot complete, extend or read another project's transaction", async () => {
  for (const [path, body] of [
    ['/v1/usage/complete', { transaction_id: transactionId, success: true, finalized_tokens: {} }],
    ['/v1/usage/extend', { transaction_id: transactionId }],
  ] as const) {
    expect(await h.call('POST', path, { body })).toMatchObject({
      status: 404,
      body: { type: problemType('transaction-not-found') },
    })
  }
  expect((await h.call('GET', `/v1/transactions/${transactionId}`)).status).toBe(404)
  expect((await h.call('GET', '/v1/transactions')).body.data).toEqual([])
  expect((await h.call('GET', '/v1/users')).body.data).toEqual([])
})

it("cannot list or revoke another project's keys", async () => {
  expect((await h.call('DELETE', `/v1/keys/${otherKeyId}`)).status).toBe(404)
  const listed = await h.call('GET', '/v1/keys')
  expect(listed.body.data.map((key: { id: string }) => key.id)).not.toContain(otherKeyId)
})

it('refuses a Credly-Project header that names another project than the key', async () => {
  const response = await h.call('GET', '/v1/users', { headers: { 'credly-project': h.other.id } })
  expect(response).toMatchObject({ status: 403, body: { type: problemType('forbidden') } })
})

it('the same user id in two projects are two users', async () => {
  await h.call('POST', '/v1/users', { body: { user_id: 'victim', tier_id: 'empty' } })
  expect((await h.call('GET', '/v1/users/victim/balance')).body).toEqual({
    user_id: 'victim',
    balance: 0,
    held: 0,
  })
})
