import {
  ConflictError,
  CredlyApiError,
  type CredlyClient,
  CredlyConnectionError,
  CredlyError,
  CredlyTimeoutError,
  createClient,
  ForbiddenError,
  NotFoundError,
  paginate,
  problemType,
  RateLimitError,
  ServerError,
  UnauthorizedError,
  ValidationError,
} from 'credly'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type RealServer, startRealServer } from './real-server.ts'

// The real server behind a fault proxy: `server` scripts faults and records what arrived.
let real: RealServer
let server: RealServer['proxy']
let baseUrl: string
let API_KEY: string
let PROJECT_ID: string
let client: CredlyClient

beforeEach(async () => {
  real = await startRealServer()
  server = real.proxy
  baseUrl = real.baseUrl
  API_KEY = real.apiKey
  PROJECT_ID = real.projectId
  // Small retry budget keeps the backoff waits of these tests short but real.
  client = createClient({ apiKey: API_KEY, projectId: PROJECT_ID, baseUrl, maxRetries: 2 })
})

afterEach(async () => {
  expect((await real.credly.ledger.verify(real.projectId)).differences).toEqual([])
  await real.close()
})

describe('paths and pages', () => {
  it('encodes user ids that contain URL characters', async () => {
    await client.createUser({ user_id: 'org/42 user?x' })
    expect((await client.getUser('org/42 user?x')).user_id).toBe('org/42 user?x')
  })

  it('walks every page with paginate()', async () => {
    await client.createUser({ user_id: 'pager' })
    const ids: string[] = []
    for (let index = 0; index < 5; index++) {
      ids.push(
        (await client.startUsageTransaction({ user_id: 'pager', model: 'gpt-4o' }))
          .transaction_id as string,
      )
    }
    const seen: string[] = []
    for await (const transaction of paginate((query) => client.getTransactions(query), {
      user_id: 'pager',
      limit: 2,
    })) {
      seen.push(transaction.id)
    }
    // Newest first; these share a timestamp on the test clock, so compare them as a set.
    expect([...seen].sort()).toEqual([...ids].sort())
    expect(server.received('/v1/transactions')).toHaveLength(3)
  })
})

describe('input validation before any network call', () => {
  const cases: Array<[string, () => Promise<unknown>, string]> = [
    [
      'a missing user_id',
      () => client.startUsageTransaction({ model: 'gpt-4o' } as never),
      'user_id',
    ],
    [
      'negative tokens',
      () =>
        client.startUsageTransaction({
          user_id: 'x',
          model: 'gpt-4o',
          provisional_tokens: { input_tokens: -1 },
        }),
      'provisional_tokens.input_tokens',
    ],
    [
      'a fractional token count',
      () =>
        client.completeUsageTransaction({
          transaction_id: 'txn_1',
          success: true,
          finalized_tokens: { output_tokens: 1.5 },
        }),
      'finalized_tokens.output_tokens',
    ],
    [
      'an unknown token field',
      () =>
        client.completeUsageTransaction({
          transaction_id: 'txn_1',
          success: true,
          finalized_tokens: { output: 3 } as never,
        }),
      'finalized_tokens',
    ],
    ['an empty user id', () => client.getUser(''), 'user_id'],
    ['a zero grant', () => client.grantCredits({ user_id: 'x', credits: 0 }), 'credits'],
    ['a page size over 100', () => client.getUsers({ limit: 500 }), 'limit'],
  ]

  it.each(cases)('rejects %s with a ValidationError naming the field', async (_name, run, path) => {
    const error = await run().catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(ValidationError)
    expect((error as ValidationError).status).toBe(400)
    expect((error as ValidationError).errors.map((field) => field.path)).toContain(path)
    expect(server.requests).toHaveLength(0)
  })

  it('explains a missing API key or project id at construction', () => {
    const saved = { key: process.env.CREDLY_API_KEY, project: process.env.CREDLY_PROJECT_ID }
    delete process.env.CREDLY_API_KEY
    delete process.env.CREDLY_PROJECT_ID
    try {
      expect(() => createClient({ projectId: 'p', baseUrl })).toThrow(/CREDLY_API_KEY/)
      expect(() => createClient({ apiKey: 'k', baseUrl })).toThrow(/CREDLY_PROJECT_ID/)
      expect(() => createClient({ apiKey: 'k', projectId: 'p', baseUrl: 'not a url' })).toThrow(
        /not a URL/,
      )
    } finally {
      if (saved.key !== undefined) process.env.CREDLY_API_KEY = saved.key
      if (saved.project !== undefined) process.env.CREDLY_PROJECT_ID = saved.project
    }
  })
})

describe('errors from real problem responses', () => {
  it('maps a 400 validation problem with field errors', async () => {
    // The schema forbids this too, so send it past the client's own check by faking the body.
    server.failNext('/v1/users', {
      kind: 'status',
      status: 400,
      body: JSON.stringify({
        type: problemType('validation-error'),
        title: 'Invalid request',
        status: 400,
        detail: 'The request body is invalid.',
        errors: [{ path: 'user_id', message: 'too long' }],
      }),
    })
    const error = (await client
      .createUser({ user_id: 'x' })
      .catch((caught: unknown) => caught)) as ValidationError
    expect(error).toBeInstanceOf(ValidationError)
    expect(error.errors).toEqual([{ path: 'user_id', message: 'too long' }])
    expect(error.message).toContain('user_id: too long')
    expect(error.type).toBe(problemType('validation-error'))
  })

  it('maps 401 for a wrong key', async () => {
    const wrong = createClient({ apiKey: 'ck_wrong', projectId: PROJECT_ID, baseUrl })
    const error = (await wrong.getUsers().catch((caught: unknown) => caught)) as UnauthorizedError
    expect(error).toBeInstanceOf(UnauthorizedError)
    expect(error).toBeInstanceOf(CredlyApiError)
    expect(error).toMatchObject({
      status: 401,
      title: 'Unauthorized',
      type: problemType('unauthorized'),
    })
    expect(error.detail).toContain('unknown or revoked')
    expect(error.requestId).toBeTruthy()
    expect(server.requests).toHaveLength(1) // a 401 is never retried
  })

  it('maps 403, 404 and 409', async () => {
    server.failNext('/v1/users', {
      kind: 'status',
      status: 403,
      body: JSON.stringify({
        title: 'Forbidden',
        status: 403,
        detail: 'metering keys cannot list users',
      }),
    })
    const forbidden = await client.getUsers().catch((caught: unknown) => caught)
    expect(forbidden).toBeInstanceOf(ForbiddenError)
    expect((forbidden as ForbiddenError).detail).toBe('metering keys cannot list users')

    const notFound = (await client
      .getTransaction('txn_nope')
      .catch((caught: unknown) => caught)) as NotFoundError
    expect(notFound).toBeInstanceOf(NotFoundError)
    expect(notFound.type).toBe(problemType('transaction-not-found'))

    await client.createUser({ user_id: 'jo' })
    const conflict = await client.createUser({ user_id: 'jo' }).catch((caught: unknown) => caught)
    expect(conflict).toBeInstanceOf(ConflictError)
  })

  it('maps 429 with Retry-After once retries are spent', async () => {
    server.failNext(
      '/v1/users',
      {
        kind: 'status',
        status: 429,
        headers: { 'retry-after': '0' },
        body: JSON.stringify({ title: 'Too Many Requests', status: 429, retry_after_seconds: 0 }),
      },
      3,
    )
    const error = (await client.getUsers().catch((caught: unknown) => caught)) as RateLimitError
    expect(error).toBeInstanceOf(RateLimitError)
    expect(error.retryAfterSeconds).toBe(0)
    expect(server.received('/v1/users')).toHaveLength(3)
  })

  it('maps a 5xx with a non-JSON body to a ServerError that keeps the text', async () => {
    server.failNext(
      '/v1/users',
      { kind: 'status', status: 502, contentType: 'text/html', body: '<h1>Bad gateway</h1>' },
      3,
    )
    const error = (await client.getUsers().catch((caught: unknown) => caught)) as ServerError
    expect(error).toBeInstanceOf(ServerError)
    expect(error).toMatchObject({
      status: 502,
      title: 'Bad Gateway',
      detail: '<h1>Bad gateway</h1>',
    })
    expect(error.body).toBe('<h1>Bad gateway</h1>')
  })

  it('reports an unreachable server as a connection error', async () => {
    // A port that was just free: nothing listens there.
    const { createServer } = await import('node:net')
    const probe = createServer()
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
    const offlineUrl = `http://127.0.0.1:${(probe.address() as { port: number }).port}`
    await new Promise((resolve) => probe.close(resolve))
    const offline = createClient({
      apiKey: API_KEY,
      projectId: PROJECT_ID,
      baseUrl: offlineUrl,
      maxRetries: 0,
    })
    const error = await offline.getUsers().catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(CredlyConnectionError)
    expect((error as Error).message).toContain(offlineUrl)
  })

  it('refuses a response that does not match the wire schema', async () => {
    server.failNext('/v1/users', {
      kind: 'status',
      status: 200,
      contentType: 'application/json',
      body: JSON.stringify({ data: 'not a list' }),
    })
    const error = await client.getUsers().catch((caught: unknown) => caught)
    expect(CredlyError.isInstance(error)).toBe(true)
    expect((error as Error).message).toMatch(/wire schema/)
  })

  it('reads a newer server: unknown fields and a refusal reason it does not know', async () => {
    await client.createUser({ user_id: 'ann', tier_id: 'free' })
    const newer = (json: unknown) => ({ ...(json as object), added_in_v2: { nested: [1, 2] } })
    server.failNext('/v1/usage/start', {
      kind: 'rewrite',
      body: (json) => ({ ...newer(json), reason: 'quota_paused_by_admin' }),
    })
    const refused = await client.startUsageTransaction({
      user_id: 'ann',
      model: 'tiny-model',
      provisional_tokens: { output_tokens: 1000 },
    })
    expect(refused).toMatchObject({ continue: false, reason: 'quota_paused_by_admin' })
    server.failNext('/v1/users/ann', { kind: 'rewrite', body: newer })
    expect(await client.getUser('ann')).toMatchObject({ user_id: 'ann', balance: 100 })
    const start = await client.startUsageTransaction({ user_id: 'ann', model: 'gpt-4o' })
    server.failNext(`/v1/transactions/${start.transaction_id}`, {
      kind: 'rewrite',
      body: (json) => ({ ...newer(json), status: 'disputed' }),
    })
    expect(await client.getTransaction(start.transaction_id as string)).toMatchObject({
      status: 'disputed',
    })
    // What the client needs to work stays required.
    server.failNext('/v1/usage/start', {
      kind: 'rewrite',
      body: (json) => ({ ...(json as object), continue: undefined }),
    })
    const broken = await client
      .startUsageTransaction({ user_id: 'ann', model: 'gpt-4o' })
      .catch((caught: unknown) => caught)
    expect((broken as Error).message).toMatch(/wire schema/)
  })
})

describe('retries', () => {
  it('retries a 503 and succeeds, resending the same idempotency key', async () => {
    server.failNext(
      '/v1/users',
      { kind: 'status', status: 503, headers: { 'retry-after': '0' } },
      2,
    )
    const user = await client.createUser({ user_id: 'kim' })
    expect(user.user_id).toBe('kim')
    const attempts = server.received('/v1/users')
    expect(attempts).toHaveLength(3)
    const keys = new Set(attempts.map((attempt) => attempt.headers['idempotency-key']))
    expect(keys.size).toBe(1)
    // A UUID version 7: time-ordered, so the server's index of keys grows at its end.
    expect([...keys][0]).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    )
    expect(attempts.map((attempt) => attempt.headers['x-credly-retry-count'])).toEqual([
      undefined,
      '1',
      '2',
    ])
  })

  it('never charges twice when the response to a start is lost and the start is retried', async () => {
    await client.createUser({ user_id: 'lee' })
    server.failNext('/v1/usage/start', { kind: 'drop-response' })
    const start = await client.startUsageTransaction({
      user_id: 'lee',
      model: 'gpt-4o',
      provisional_tokens: { output_tokens: 1_000_000 },
    })
    expect(start.continue).toBe(true)
    expect(server.received('/v1/usage/start')).toHaveLength(2)
    // One reservation of 10 credits, not two.
    expect(await client.getBalance('lee')).toEqual({ user_id: 'lee', balance: 90, held: 10 })
    const pending = await client.getTransactions({ user_id: 'lee', status: 'pending' })
    expect(pending.data).toHaveLength(1)
  })

  it('grants once when the response to a grant is lost', async () => {
    await client.createUser({ user_id: 'ann' })
    server.failNext('/v1/users/ann/grants', { kind: 'drop-response' })
    await client.grantCredits({ user_id: 'ann', credits: 7 })
    expect((await client.getBalance('ann')).balance).toBe(107)
  })

  it('settles once when a complete is retried after a gateway error', async () => {
    await client.createUser({ user_id: 'bo' })
    const start = await client.startUsageTransaction({
      user_id: 'bo',
      model: 'tiny-model',
      provisional_tokens: { output_tokens: 10 },
    })
    server.failNext('/v1/usage/complete', {
      kind: 'status',
      status: 502,
      headers: { 'retry-after': '0' },
    })
    const done = await client.completeUsageTransaction({
      transaction_id: start.transaction_id as string,
      success: true,
      finalized_tokens: { output_tokens: 3 },
    })
    expect(done).toMatchObject({ credits_used: 3, balance: 97 })
    expect(server.received('/v1/usage/complete')).toHaveLength(2)
  })

  it('settles once when the response to a complete is lost and the complete is retried', async () => {
    await client.createUser({ user_id: 'cy' })
    const start = await client.startUsageTransaction({
      user_id: 'cy',
      model: 'tiny-model',
      provisional_tokens: { output_tokens: 10 },
    })
    server.failNext('/v1/usage/complete', { kind: 'drop-response' })
    const done = await client.completeUsageTransaction({
      transaction_id: start.transaction_id as string,
      success: true,
      finalized_tokens: { output_tokens: 3 },
    })
    // The retry is answered with the first result: the transaction keeps it, so a complete
    // needs no idempotency key (and the server stores no key row for it).
    expect(done).toMatchObject({ credits_used: 3, balance: 97 })
    const attempts = server.received('/v1/usage/complete')
    expect(attempts).toHaveLength(2)
    expect(attempts.map((attempt) => attempt.headers['idempotency-key'])).toEqual([
      undefined,
      undefined,
    ])
    expect(await client.getBalance('cy')).toEqual({ user_id: 'cy', balance: 97, held: 0 })
  })

  it('uses a caller-given idempotency key, so a repeated call is a replay', async () => {
    await client.createUser({ user_id: 'max' })
    const first = await client.grantCredits(
      { user_id: 'max', credits: 5 },
      { idempotencyKey: 'grant-1' },
    )
    const again = await client.grantCredits(
      { user_id: 'max', credits: 5 },
      { idempotencyKey: 'grant-1' },
    )
    expect(again).toEqual(first)
    expect((await client.getBalance('max')).balance).toBe(105)
    const conflict = await client
      .grantCredits({ user_id: 'max', credits: 6 }, { idempotencyKey: 'grant-1' })
      .catch((caught: unknown) => caught)
    expect(conflict).toBeInstanceOf(ConflictError)
  })

  it('does not retry a 4xx other than 408 and 429', async () => {
    server.failNext('/v1/users', {
      kind: 'status',
      status: 422,
      body: '{"title":"Unprocessable","status":422}',
    })
    const error = await client.createUser({ user_id: 'ned' }).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(ValidationError)
    expect(server.received('/v1/users')).toHaveLength(1)
  })

  it('retries a dropped connection', async () => {
    server.failNext('/v1/users', { kind: 'destroy' })
    const page = await client.getUsers()
    expect(page.data).toEqual([])
    expect(server.received('/v1/users')).toHaveLength(2)
  })
})

describe('timeouts and cancellation', () => {
  it('times out a stalled attempt, then retries it', async () => {
    // The stall outlasts the timeout by far; the retry has ample time even on a loaded machine.
    server.failNext('/v1/users', { kind: 'stall', ms: 10_000 })
    const fast = createClient({
      apiKey: API_KEY,
      projectId: PROJECT_ID,
      baseUrl,
      timeoutMs: 1_500,
      maxRetries: 1,
    })
    const page = await fast.getUsers()
    expect(page.data).toEqual([])
    expect(server.received('/v1/users')).toHaveLength(2)
  })

  it('throws CredlyTimeoutError when every attempt times out', async () => {
    server.failNext('/v1/users', { kind: 'stall', ms: 2_000 }, 2)
    const fast = createClient({
      apiKey: API_KEY,
      projectId: PROJECT_ID,
      baseUrl,
      timeoutMs: 100,
      maxRetries: 1,
    })
    const error = await fast.getUsers().catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(CredlyTimeoutError)
    expect(error).toBeInstanceOf(CredlyConnectionError)
    expect((error as Error).message).toContain('timed out after 100 ms')
  })

  it('stops at once, without retrying, when the caller aborts', async () => {
    server.failNext('/v1/users', { kind: 'stall', ms: 2_000 })
    const controller = new AbortController()
    const pending = client
      .getUsers({}, { signal: controller.signal })
      .catch((caught: unknown) => caught)
    setTimeout(() => controller.abort(), 50)
    const error = (await pending) as Error
    expect(error.name).toBe('AbortError')
    expect(server.received('/v1/users')).toHaveLength(1)
  })
})
