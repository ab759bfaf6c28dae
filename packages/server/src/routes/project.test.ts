import { problemType } from 'credly'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type AppHarness, openAppHarness } from '../testing/app-harness.ts'

let h: AppHarness
beforeEach(async () => {
  h = await openAppHarness()
})
afterEach(async () => {
  await h.close()
})

describe('project config', () => {
  it('reads and replaces the config; balances are kept', async () => {
    await h.call('POST', '/v1/users', { body: { user_id: 'ann' } })
    expect((await h.call('GET', '/v1/project')).body).toMatchObject({
      id: h.project.id,
      config: { default_tier: 'free' },
    })
    const replaced = await h.call('PUT', '/v1/project/config', {
      body: { models: { 'gpt-5': { input: 1.25, output: 10 } }, tiers: { basic: { credits: 10 } } },
    })
    expect(replaced).toMatchObject({
      status: 200,
      body: { config: { models: { 'gpt-5': { input: 1.25 } } } },
    })
    expect(
      (await h.call('POST', '/v1/usage/start', { body: { user_id: 'ann', model: 'gpt-5' } })).body
        .continue,
    ).toBe(true)
    expect(
      (await h.call('POST', '/v1/usage/start', { body: { user_id: 'ann', model: 'unit' } })).status,
    ).toBe(400)
  })

  it('names every invalid field of a config', async () => {
    const bad = await h.call('PUT', '/v1/project/config', {
      body: { models: { m: { input: -1, output: 1 } }, tiers: {}, default_tier: 'gold' },
    })
    expect(bad.status).toBe(400)
    expect(bad.body.errors.map((error: { path: string }) => error.path).sort()).toEqual([
      'default_tier',
      'models.m.input',
      'tiers',
    ])
  })
})

describe('API keys', () => {
  it('creates a key shown once, lists keys without secrets, and revokes on the next request', async () => {
    const created = await h.call('POST', '/v1/keys', { body: { scope: 'metering', name: 'web' } })
    expect(created.status).toBe(201)
    expect(created.body.key).toMatch(/^ck_meter_[a-z2-7]{26}$/)
    const listed = await h.call('GET', '/v1/keys')
    expect(JSON.stringify(listed.body)).not.toContain(created.body.key)
    expect(
      listed.body.data.find((key: { id: string }) => key.id === created.body.id),
    ).toMatchObject({
      scope: 'metering',
      name: 'web',
      prefix: created.body.key.slice(0, 14),
      revoked_at: null,
    })

    expect((await h.call('GET', '/v1/users', { key: created.body.key })).status).toBe(200)
    expect((await h.call('DELETE', `/v1/keys/${created.body.id}`)).body).toEqual({
      id: created.body.id,
      revoked: true,
    })
    const after = await h.call('GET', '/v1/users', { key: created.body.key })
    expect(after).toMatchObject({ status: 401, body: { type: problemType('unauthorized') } })
    expect((await h.call('DELETE', `/v1/keys/${created.body.id}`)).status).toBe(404)
  })

  it('stores only a hash of each key', async () => {
    const created = await h.call('POST', '/v1/keys', { body: { scope: 'admin' } })
    const rows = await h.ledger.store.read((tx) => tx.listApiKeys(h.project.id))
    expect(JSON.stringify(rows)).not.toContain(created.body.key)
    expect(rows.every((row) => /^[0-9a-f]{64}$/.test(row.hash))).toBe(true)
  })
})

describe('verify', () => {
  it('reports the project clean over the API', async () => {
    await h.call('POST', '/v1/users', { body: { user_id: 'ann' } })
    const report = await h.call('GET', '/v1/verify')
    expect(report.body).toMatchObject({
      ok: true,
      project_id: h.project.id,
      totals: { granted: 100, available: 100 },
    })
  })
})
