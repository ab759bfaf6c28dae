import { problemType } from 'credly'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type AppHarness, openAppHarness } from '../testing/app-harness.ts'

let h: AppHarness
beforeEach(async () => {
  h = await openAppHarness()
})
afterEach(async () => {
  expect((await h.ledger.verify(h.project.id)).ok).toBe(true)
  await h.close()
})

describe('users', () => {
  it('creates (201), reads, lists and shows the balance with a metering key', async () => {
    const key = h.project.meteringKey
    // Another tier than the default one takes an admin key (the harness's default key).
    const created = await h.call('POST', '/v1/users', {
      body: { user_id: 'ann', tier_id: 'monthly', metadata: { plan: 'beta' } },
    })
    expect(created).toMatchObject({
      status: 201,
      body: {
        user_id: 'ann',
        tier_id: 'monthly',
        balance: 100,
        held: 0,
        next_refill_at: '2026-02-28T12:00:00.000Z',
      },
    })
    await h.call('POST', '/v1/users', { key, body: { user_id: 'bob' } })
    expect((await h.call('GET', '/v1/users/ann', { key })).body.metadata).toEqual({ plan: 'beta' })
    expect((await h.call('GET', '/v1/users/ann/balance', { key })).body).toEqual({
      user_id: 'ann',
      balance: 100,
      held: 0,
    })
    const page = await h.call('GET', '/v1/users?limit=1', { key })
    expect(page.body).toMatchObject({ has_more: true, data: [{ user_id: 'ann' }] })
    const next = await h.call('GET', `/v1/users?limit=1&cursor=${page.body.next_cursor}`, { key })
    expect(next.body).toMatchObject({
      has_more: false,
      next_cursor: null,
      data: [{ user_id: 'bob' }],
    })
    expect((await h.call('GET', '/v1/users?tier_id=monthly', { key })).body.data).toHaveLength(1)
  })

  it('lets a metering key create users on the default tier or a self_serve tier only', async () => {
    const key = h.project.meteringKey
    const refused = await h.call('POST', '/v1/users', {
      key,
      body: { user_id: 'mallory', tier_id: 'limited' },
    })
    expect(refused).toMatchObject({ status: 403, body: { type: problemType('forbidden') } })
    expect(refused.body.detail).toContain('self_serve')
    expect((await h.call('GET', '/v1/users/mallory')).status).toBe(404)
    expect(
      await h.call('POST', '/v1/users', { key, body: { user_id: 'ann', tier_id: 'free' } }),
    ).toMatchObject({ status: 201, body: { tier_id: 'free', balance: 100 } })
    expect(
      await h.call('POST', '/v1/users', { key, body: { user_id: 'bob', tier_id: 'nope' } }),
    ).toMatchObject({ status: 400, body: { type: problemType('unknown-tier') } })

    const config = (await h.ledger.getProject(h.project.id)).config
    await h.ledger.updateProjectConfig(h.project.id, {
      ...config,
      tiers: { ...config.tiers, monthly: { ...config.tiers.monthly, self_serve: true } },
    } as typeof config)
    expect(
      await h.call('POST', '/v1/users', { key, body: { user_id: 'cat', tier_id: 'monthly' } }),
    ).toMatchObject({ status: 201, body: { tier_id: 'monthly' } })
    expect(
      await h.call('POST', '/v1/users', { body: { user_id: 'dan', tier_id: 'limited' } }),
    ).toMatchObject({ status: 201, body: { tier_id: 'limited', balance: 1000 } })
  })

  it('answers 409 for a duplicate user and 404 for an unknown one', async () => {
    await h.call('POST', '/v1/users', { body: { user_id: 'ann' } })
    expect(await h.call('POST', '/v1/users', { body: { user_id: 'ann' } })).toMatchObject({
      status: 409,
      body: { type: problemType('user-exists') },
    })
    expect(await h.call('GET', '/v1/users/nobody')).toMatchObject({
      status: 404,
      body: { type: problemType('user-not-found') },
    })
  })

  it('decodes user ids with URL characters in the path', async () => {
    await h.call('POST', '/v1/users', { body: { user_id: 'org/42 ü?' } })
    const found = await h.call('GET', `/v1/users/${encodeURIComponent('org/42 ü?')}`)
    expect(found).toMatchObject({ status: 200, body: { user_id: 'org/42 ü?' } })
  })

  it('grants credits, changes the tier and deletes the user with an admin key', async () => {
    await h.call('POST', '/v1/users', { body: { user_id: 'ann' } })
    const grant = await h.call('POST', '/v1/users/ann/grants', {
      body: { credits: 12.5, reason: 'purchase #7', expires_at: '2026-06-01T00:00:00.000Z' },
    })
    expect(grant).toMatchObject({
      status: 201,
      body: { credits: 12.5, remaining: 12.5, reason: 'purchase #7' },
    })
    const tier = await h.call('POST', '/v1/users/ann/tier', {
      body: { tier_id: 'monthly', reset_balance: true },
    })
    expect(tier).toMatchObject({ status: 200, body: { tier_id: 'monthly', balance: 112.5 } })
    expect(await h.call('DELETE', '/v1/users/ann')).toMatchObject({
      status: 200,
      body: { user_id: 'ann', deleted: true },
    })
    expect((await h.call('GET', '/v1/users/ann')).status).toBe(404)
  })

  it('refuses admin operations to a metering key with 403, changing nothing', async () => {
    await h.call('POST', '/v1/users', { body: { user_id: 'ann' } })
    const key = h.project.meteringKey
    for (const [method, path, body] of [
      ['POST', '/v1/users/ann/grants', { credits: 1000 }],
      ['POST', '/v1/users/ann/tier', { tier_id: 'monthly' }],
      ['DELETE', '/v1/users/ann', undefined],
    ] as const) {
      const refused = await h.call(method, path, { key, body })
      expect(refused).toMatchObject({ status: 403, body: { type: problemType('forbidden') } })
    }
    expect((await h.ledger.getUser(h.project.id, 'ann')).balance).toBe(100)
  })

  it('rejects a bad grant and an unknown tier with 400 problems', async () => {
    await h.call('POST', '/v1/users', { body: { user_id: 'ann' } })
    const grant = await h.call('POST', '/v1/users/ann/grants', { body: { credits: 'lots' } })
    expect(grant).toMatchObject({ status: 400, body: { errors: [{ path: 'credits' }] } })
    const tier = await h.call('POST', '/v1/users/ann/tier', { body: { tier_id: 'platinum' } })
    expect(tier).toMatchObject({ status: 400, body: { type: problemType('unknown-tier') } })
  })
})
