import { request } from 'node:http'
import { connect, type Socket } from 'node:net'
import { problemType } from 'credly'
import { afterEach, describe, expect, it } from 'vitest'
import { createTestServer, type TestServer } from '../src/testing/index.ts'

let server: TestServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

/** A raw connection to the server, and a promise of when the server closes it. */
async function open(url: string, localAddress = '127.0.0.1') {
  const { hostname, port } = new URL(url)
  const socket = connect({ host: hostname, port: Number(port), localAddress })
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('error', reject)
  })
  let received = ''
  socket.on('data', (chunk) => {
    received += chunk
  })
  socket.on('error', () => undefined)
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
  return { socket, closed, received: () => received }
}

/** Writes `text` one byte at a time every `everyMs`, until the socket closes. */
function dribble(socket: Socket, text: string, everyMs: number): void {
  let index = 0
  const timer = setInterval(() => {
    if (socket.destroyed || index >= text.length) return clearInterval(timer)
    socket.write(text[index++] as string)
  }, everyMs)
}

/** True if `promise` settles within `ms` (a bound on a hang, not a speed test). */
const within = (promise: Promise<unknown>, ms: number) =>
  Promise.race([
    promise.then(() => true),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms)),
  ])

/** One request from a chosen loopback address, so tests can be several clients. */
function get(url: string, key: string, localAddress: string) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>(
    (resolve, reject) => {
      const req = request(
        `${url}/v1/users`,
        { headers: { authorization: `Bearer ${key}` }, localAddress, agent: false },
        (res) => {
          let body = ''
          res.on('data', (chunk) => {
            body += chunk
          })
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
        },
      )
      req.on('error', reject)
      req.end()
    },
  )
}

describe('slow and idle clients', () => {
  const limits = {
    headersTimeoutMs: 300,
    requestTimeoutMs: 600,
    keepAliveTimeoutMs: 200,
    maxConnections: 4,
  }

  it('closes a connection that sends nothing, headers a byte at a time, or a body too slowly', async () => {
    server = await createTestServer({ limits })
    const idle = await open(server.url)
    const slowHeaders = await open(server.url)
    dribble(
      slowHeaders.socket,
      'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaa\r\n\r\n',
      50,
    )
    const slowBody = await open(server.url)
    slowBody.socket.write(
      'POST /v1/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n',
    )
    dribble(slowBody.socket, '{"user_id": "slow"'.padEnd(200, ' '), 50)
    // Each is cut off within a few of its limits, instead of the minute they got before.
    expect(await within(idle.closed, 5000)).toBe(true)
    expect(await within(slowHeaders.closed, 5000)).toBe(true)
    expect(await within(slowBody.closed, 5000)).toBe(true)
    expect(slowHeaders.received()).toMatch(/^HTTP\/1\.1 408|^$/)
    // The server still serves a normal request.
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200)
  }, 20_000)

  it('closes an idle keep-alive connection after keepAliveTimeoutMs', async () => {
    server = await createTestServer({ limits })
    const conn = await open(server.url)
    conn.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n')
    expect(await within(conn.closed, 5000)).toBe(true)
    expect(conn.received()).toMatch(/^HTTP\/1\.1 200/)
  }, 20_000)

  it('refuses connections past maxConnections, and serves again once they close', async () => {
    server = await createTestServer({
      limits: { ...limits, headersTimeoutMs: 5000, requestTimeoutMs: 5000 },
    })
    const held = await Promise.all(
      Array.from({ length: 4 }, () => open((server as TestServer).url)),
    )
    const extra = await open(server.url)
    expect(await within(extra.closed, 2000)).toBe(true)
    expect(extra.received()).toBe('')
    for (const conn of held) conn.socket.destroy()
    await Promise.all(held.map((conn) => conn.closed))
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200)
  }, 20_000)
})

describe('request limits that fit real traffic', () => {
  it('puts no request limit on a key by default', async () => {
    server = await createTestServer()
    const client = server.client({ apiKey: server.meteringKey })
    await client.createUser({ user_id: 'ann' })
    // Past the old default of 6,000 a minute: one key of one app, all answered.
    const statuses = new Map<number, number>()
    for (let batch = 0; batch < 65; batch++) {
      const responses = await Promise.all(
        Array.from({ length: 100 }, () =>
          fetch(`${(server as TestServer).url}/v1/users/ann/balance`, {
            headers: { authorization: `Bearer ${(server as TestServer).meteringKey}` },
          }),
        ),
      )
      for (const response of responses) {
        await response.arrayBuffer()
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1)
      }
    }
    expect(Object.fromEntries(statuses)).toEqual({ 200: 6500 })
  }, 60_000)

  it('slows an address that keeps sending unknown keys, and only that address', async () => {
    server = await createTestServer({ app: { failedAuthLimit: { failures: 5 } } })
    const statuses: number[] = []
    for (let index = 0; index < 7; index++) {
      statuses.push((await get(server.url, `ck_meter_guess${index}`, '127.0.0.2')).status)
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429])
    const throttled = await get(server.url, server.meteringKey, '127.0.0.2')
    expect(throttled.status).toBe(429)
    expect(Number(throttled.headers['retry-after'])).toBeGreaterThan(0)
    expect(JSON.parse(throttled.body)).toMatchObject({ type: problemType('rate-limited') })
    // Another client is not affected, with a good key or a bad one.
    expect((await get(server.url, server.meteringKey, '127.0.0.3')).status).toBe(200)
    expect((await get(server.url, 'ck_meter_wrong', '127.0.0.3')).status).toBe(401)
  }, 20_000)

  it('answers a repeated unknown key without looking it up again', async () => {
    server = await createTestServer({ app: { failedAuthLimit: false } })
    let lookups = 0
    const authenticate = server.ledger.authenticateApiKey.bind(server.ledger)
    server.ledger.authenticateApiKey = (secret) => {
      lookups++
      return authenticate(secret)
    }
    for (let index = 0; index < 50; index++) {
      expect((await get(server.url, 'ck_meter_same_wrong_key', '127.0.0.1')).status).toBe(401)
    }
    expect(lookups).toBe(1)
    // A real key is still looked up every time, so revoking it takes effect at once.
    expect((await get(server.url, server.meteringKey, '127.0.0.1')).status).toBe(200)
    const [metering] = (await server.ledger.listApiKeys(server.projectId)).filter(
      (key) => key.scope === 'metering',
    )
    await server.ledger.revokeApiKey(server.projectId, metering?.id as string)
    expect((await get(server.url, server.meteringKey, '127.0.0.1')).status).toBe(401)
  }, 20_000)
})

describe('request bodies over the limit, over HTTP', () => {
  /** POSTs `body` to /v1/users, with a Content-Length or chunked (the length unsaid). */
  function post(url: string, key: string, body: string, chunked: boolean) {
    return new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        `${url}/v1/users`,
        {
          method: 'POST',
          headers: {
            authorization: `Bearer ${key}`,
            'content-type': 'application/json',
            ...(chunked ? {} : { 'content-length': Buffer.byteLength(body) }),
          },
        },
        (res) => {
          let text = ''
          res.on('data', (chunk) => {
            text += chunk
          })
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }))
        },
      )
      req.on('error', reject)
      // Chunked: two writes, so the server cannot know the length from the headers.
      req.write(body.slice(0, 10))
      req.end(body.slice(10))
    })
  }

  it('answers 413 for a body over the limit, whether its length is declared or chunked', async () => {
    server = await createTestServer({ app: { bodyLimitBytes: 1024 } })
    const big = JSON.stringify({ user_id: 'big', metadata: { note: 'x'.repeat(2000) } })
    const small = (id: string) =>
      JSON.stringify({ user_id: id, metadata: { note: 'x'.repeat(900) } })
    for (const chunked of [false, true]) {
      const refused = await post(server.url, server.adminKey, big, chunked)
      expect(refused.status).toBe(413)
      expect(JSON.parse(refused.body).type).toBe(problemType('payload-too-large'))
      const id = chunked ? 'small-chunked' : 'small'
      expect((await post(server.url, server.adminKey, small(id), chunked)).status).toBe(201)
    }
    const users = await server.client().getUsers()
    expect(users.data.map((user) => user.user_id).sort()).toEqual(['small', 'small-chunked'])
  })
})
