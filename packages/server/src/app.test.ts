import { problemType } from 'credly'
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import { type AppHarness, openAppHarness } from './testing/app-harness.ts'

let h: AppHarness
afterEach(async () => {
  await h?.close()
})

describe('authentication', () => {
  it('answers 401 problems for no key, a malformed header and an unknown key', async () => {
    h = await openAppHarness()
    const cases: Array<Record<string, string>> = [
      {},
      { authorization: 'Basic abc' },
      { authorization: 'Bearer ck_admin_nope' },
    ]
    for (const headers of cases) {
      const response = await h.call('GET', '/v1/users', { key: null, headers })
      expect(response.status).toBe(401)
      expect(response.headers.get('content-type')).toBe('application/problem+json')
      expect(response.body).toMatchObject({
        type: problemType('unauthorized'),
        status: 401,
        instance: '/v1/users',
      })
    }
  })
})

describe('limits', () => {
  it('answers 413 for a body over the limit, changing nothing', async () => {
    h = await openAppHarness({ app: { bodyLimitBytes: 1024 } })
    const response = await h.call('POST', '/v1/users', {
      body: { user_id: 'big', metadata: { note: 'x'.repeat(2000) } },
    })
    expect(response).toMatchObject({
      status: 413,
      body: { type: problemType('payload-too-large') },
    })
    expect((await h.call('GET', '/v1/users')).body.data).toEqual([])
  })

  it('answers 429 with Retry-After and RateLimit fields past the request limit', async () => {
    h = await openAppHarness({ app: { rateLimit: { requests: 3, windowMs: 60_000 } } })
    const statuses: number[] = []
    let last: Awaited<ReturnType<AppHarness['call']>> | undefined
    for (let index = 0; index < 5; index++) {
      last = await h.call('GET', '/v1/users')
      statuses.push(last.status)
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429])
    expect(last?.body).toMatchObject({ type: problemType('rate-limited') })
    expect(Number(last?.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(last?.headers.get('ratelimit-policy')).toBe('"requests";q=3;w=60')
    expect(last?.headers.get('ratelimit')).toMatch(/^"requests";r=0;t=\d+$/)
    // Limits are per key: another key is unaffected.
    expect((await h.call('GET', '/v1/users', { key: h.project.meteringKey })).status).toBe(200)
  })
})

describe('bad input never produces a 500 or a change', () => {
  it('answers unknown routes and bad JSON with problems', async () => {
    h = await openAppHarness()
    expect(await h.call('GET', '/v2/nothing')).toMatchObject({
      status: 404,
      body: { type: problemType('not-found') },
    })
    expect(await h.call('POST', '/v1/usage/start', { rawBody: '{"user_id":' })).toMatchObject({
      status: 400,
      body: { type: problemType('validation-error') },
    })
  })

  it('survives random bodies on every write route', async () => {
    h = await openAppHarness()
    await h.call('POST', '/v1/users', { body: { user_id: 'ann' } })
    const routes = [
      ['POST', '/v1/usage/start'],
      ['POST', '/v1/usage/complete'],
      ['POST', '/v1/usage/extend'],
      ['POST', '/v1/users'],
      ['POST', '/v1/users/ann/tier'],
      ['POST', '/v1/users/ann/grants'],
      ['PUT', '/v1/project/config'],
      ['POST', '/v1/keys'],
    ] as const
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...routes),
        fc.oneof(fc.jsonValue(), fc.string(), fc.object()),
        async ([method, path], body) => {
          const response = await h.call(method, path, {
            rawBody: typeof body === 'string' ? body : JSON.stringify(body),
          })
          expect(response.status).toBeLessThan(500)
        },
      ),
      { numRuns: 300 },
    )
    expect((await h.ledger.getBalance(h.project.id, 'ann')).balance).toBe(100)
    expect((await h.ledger.verify(h.project.id)).ok).toBe(true)
  })
})

describe('system endpoints', () => {
  it('reports health without a key', async () => {
    h = await openAppHarness()
    expect(await h.call('GET', '/healthz', { key: null })).toMatchObject({
      status: 200,
      body: { status: 'ok', store: 'sqlite' },
    })
  })

  it('exposes Prometheus metrics that count requests and commits', async () => {
    h = await openAppHarness()
    await h.call('POST', '/v1/users', { body: { user_id: 'ann' } })
    await h.call('GET', '/v1/users/nobody')
    const metrics = await h.call('GET', '/metrics', { key: null })
    expect(metrics.headers.get('content-type')).toContain('text/plain')
    expect(metrics.body).toContain(
      'credly_http_requests_total{operation="createUser",status="201"} 1',
    )
    expect(metrics.body).toContain('credly_http_requests_total{operation="getUser",status="404"} 1')
    expect(metrics.body).toMatch(/credly_store_commits_total\{store="sqlite"\} [1-9]/)
  })

  it('serves an OpenAPI document generated from the wire schemas', async () => {
    h = await openAppHarness()
    const { body } = await h.call('GET', '/openapi.json', { key: null })
    expect(body.openapi).toBe('3.0.3')
    const start = body.paths['/v1/usage/start'].post
    expect(start.operationId).toBe('startUsageTransaction')
    const request = start.requestBody.content['application/json'].schema
    expect(request.required).toEqual(['user_id', 'model'])
    expect(request.properties.provisional_tokens.properties.input_tokens).toMatchObject({
      type: 'integer',
      minimum: 0,
    })
    expect(body.paths['/v1/users/{user_id}'].get.parameters).toContainEqual(
      expect.objectContaining({ name: 'user_id', in: 'path' }),
    )
    expect(
      body.paths['/v1/transactions'].get.parameters.map(
        (parameter: { name: string }) => parameter.name,
      ),
    ).toContain('feature_identifier')
    const operations = Object.values(body.paths).flatMap((item) => Object.values(item as object))
    expect(operations.map((operation: { operationId: string }) => operation.operationId)).toEqual(
      expect.arrayContaining([
        'createUser',
        'getUsers',
        'grantCredits',
        'changeUserTier',
        'getTransactions',
        'createApiKey',
        'verify',
      ]),
    )
  })
})
