import { problemType } from 'credly'
import { afterEach, beforeEach, expect, it } from 'vitest'
import { type AppHarness, openAppHarness } from '../testing/app-harness.ts'

let h: AppHarness
beforeEach(async () => {
  h = await openAppHarness()
  for (const user of ['ann', 'bob']) await h.call('POST', '/v1/users', { body: { user_id: user } })
})
afterEach(async () => {
  await h.close()
})

it('lists transactions newest first with filters and a cursor, and reads one', async () => {
  const ids: string[] = []
  for (const [user, feature] of [
    ['ann', 'chat'],
    ['ann', 'search'],
    ['bob', 'chat'],
    ['ann', 'chat'],
  ]) {
    h.clock.advance(1000)
    const started = await h.call('POST', '/v1/usage/start', {
      body: { user_id: user, model: 'unit', feature_identifier: feature },
    })
    ids.push(started.body.transaction_id)
  }
  const chat = await h.call('GET', '/v1/transactions?user_id=ann&feature_identifier=chat&limit=1')
  expect(chat.body).toMatchObject({ has_more: true, data: [{ id: ids[3] }] })
  const more = await h.call(
    'GET',
    `/v1/transactions?user_id=ann&feature_identifier=chat&limit=1&cursor=${chat.body.next_cursor}`,
  )
  expect(more.body).toMatchObject({ has_more: false, data: [{ id: ids[0] }] })
  expect((await h.call('GET', '/v1/transactions?status=pending')).body.data).toHaveLength(4)
  expect(
    (await h.call('GET', '/v1/transactions?created_after=2026-01-31T12:00:02.500Z')).body.data,
  ).toHaveLength(2)

  const one = await h.call('GET', `/v1/transactions/${ids[2]}`, { key: h.project.meteringKey })
  expect(one).toMatchObject({
    status: 200,
    body: { id: ids[2], user_id: 'bob', status: 'pending', price: { input: 1_000_000 } },
  })
})

it('answers 404 for an unknown transaction and 400 for bad filters', async () => {
  expect(await h.call('GET', '/v1/transactions/txn_nope')).toMatchObject({
    status: 404,
    body: { type: problemType('transaction-not-found') },
  })
  const bad = await h.call('GET', '/v1/transactions?status=lost&limit=0&created_after=yesterday')
  expect(bad.status).toBe(400)
  expect(bad.body.errors.map((error: { path: string }) => error.path).sort()).toEqual([
    'created_after',
    'limit',
    'status',
  ])
  expect((await h.call('GET', '/v1/transactions?cursor=garbage')).status).toBe(400)
  expect((await h.call('GET', '/v1/transactions?colour=blue')).status).toBe(400)
})
