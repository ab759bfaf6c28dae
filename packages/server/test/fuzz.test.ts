import { mkdtempSync, rmSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  createLedger,
  createLocalClient,
  createSqliteStore,
  type Ledger,
  type Store,
} from '@credly/ledger'
import {
  createTestClock,
  postgresAvailable,
  postgresFactory,
  testConfig,
} from '@credly/ledger/testing'
import { CredlyApiError, type CredlyClient, createClient, MAX_CREDITS } from 'credly'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp, type RunningServer, startServer } from '../src/index.ts'
import { createProjectWithKeys } from '../src/project-with-keys.ts'

/**
 * The standing fuzz suite: every route of /openapi.json and every client method, on both stores,
 * with hostile values and random sequences of accepted calls. It asserts that no request gets a
 * 5xx, that a refused request (4xx) changes nothing, and that verify() is clean after every run.
 * CREDLY_FUZZ_RUNS=2000 searches harder.
 */
const runs = Number(process.env.CREDLY_FUZZ_RUNS ?? 150)
const seed =
  process.env.CREDLY_FUZZ_SEED === undefined ? undefined : Number(process.env.CREDLY_FUZZ_SEED)

/** Values an attacker sends: past every range, not finite, built-in names, unstorable text. */
const hostileStrings = [
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  'valueOf',
  'a\u0000b',
  '\u0000',
  'q\ud800',
  'q\udc00',
  '\udfff\ud800',
  ' fz ',
  '',
  ' ',
  '../../etc/passwd',
  '%00',
  'x'.repeat(10_000),
  'ünïcödé 🎉',
  'null',
  '1e309',
]
const hostileNumbers = [
  1e300,
  -1e300,
  Number.MAX_VALUE,
  2 ** 53 + 2,
  900_719_925_474_099,
  MAX_CREDITS,
  MAX_CREDITS + 0.000001,
  1e12,
  -1,
  0,
  0.0000001,
  1.5,
  2 ** 31,
]
const hostile = fc.oneof(
  fc.constantFrom<unknown>(...hostileStrings),
  fc.constantFrom<unknown>(...hostileNumbers),
  fc.constantFrom<unknown>(null, true, false, [], {}, [1, 2], { __proto__: { a: 1 } }),
  fc.string({ maxLength: 20 }),
  fc.double(),
  fc.integer(),
)

/** What a well-formed request would send for a field, from the ids this run has made. */
function plausible(field: string, ids: Ids): fc.Arbitrary<unknown> {
  const tokens = fc.record(
    {
      input_tokens: fc.integer({ min: 0, max: 2000 }),
      output_tokens: fc.integer({ min: 0, max: 2000 }),
    },
    { requiredKeys: [] },
  )
  switch (field) {
    case 'user_id':
      return fc.constantFrom('ann', 'bob', 'cat', 'new-user')
    case 'model':
      return fc.constantFrom('unit', 'gpt-4o', 'o4-mini')
    case 'tier_id':
      return fc.constantFrom(...Object.keys(testConfig.tiers))
    case 'transaction_id':
      return ids.transactions.length > 0
        ? fc.constantFrom(...ids.transactions)
        : fc.constant('txn_none')
    case 'provisional_tokens':
    case 'finalized_tokens':
      return tokens
    case 'success':
    case 'reset_balance':
    case 'estimated':
      return fc.boolean()
    case 'credits':
      return fc.integer({ min: 1, max: 500 })
    case 'ttl_seconds':
      return fc.integer({ min: 1, max: 3600 })
    case 'limit':
      return fc.integer({ min: 1, max: 100 })
    case 'cursor':
      return fc.constantFrom(...ids.cursors, 'WyJhbm4iXQ', 'tampered')
    case 'scope':
      return fc.constantFrom('metering', 'admin')
    case 'expires_at':
      return fc.constantFrom('2030-01-01T00:00:00.000Z', '2020-01-01T00:00:00.000Z')
    case 'metadata':
      return fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 3 })
    case 'status':
      return fc.constantFrom('pending', 'completed', 'failed', 'expired')
    default:
      return fc.string({ maxLength: 10 })
  }
}

type Ids = { transactions: string[]; cursors: string[] }

type Operation = {
  method: string
  path: string
  pathParams: string[]
  bodyFields: string[]
  queryFields: string[]
  scope: 'admin' | 'metering' | 'public'
}

/** The operations of the server's own OpenAPI document. */
function operationsOf(document: {
  paths: Record<string, Record<string, Record<string, unknown>>>
}): Operation[] {
  const operations: Operation[] = []
  for (const [path, methods] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(methods)) {
      const parameters = (operation.parameters ?? []) as Array<{ name: string; in: string }>
      const body = (
        operation.requestBody as
          | { content: { 'application/json': { schema: { properties?: object } } } }
          | undefined
      )?.content['application/json'].schema
      operations.push({
        method: method.toUpperCase(),
        path,
        pathParams: parameters.filter((p) => p.in === 'path').map((p) => p.name),
        queryFields: parameters.filter((p) => p.in === 'query').map((p) => p.name),
        bodyFields: Object.keys(body?.properties ?? {}),
        scope: operation.security ? 'public' : operation.description ? 'admin' : 'metering',
      })
    }
  }
  return operations
}

type FuzzRequest = {
  operation: Operation
  params: Record<string, string>
  rawSegment: string | undefined
  query: Record<string, unknown>
  body: unknown
  key: 'admin' | 'metering' | 'bogus'
  idempotencyKey: string | undefined
}

function requestArbitrary(operations: Operation[], ids: Ids): fc.Arbitrary<FuzzRequest> {
  return fc.constantFrom(...operations).chain((operation) => {
    const field = (name: string) =>
      fc.oneof({ weight: 3, arbitrary: plausible(name, ids) }, hostile)
    const record = (names: string[]) =>
      fc.record(Object.fromEntries(names.map((name) => [name, field(name)])), { requiredKeys: [] })
    return fc.record({
      operation: fc.constant(operation),
      params: fc.record(
        Object.fromEntries(
          operation.pathParams.map((name) => [
            name,
            fc.oneof(
              { weight: 3, arbitrary: plausible(name, ids).map(String) },
              fc.constantFrom(...hostileStrings.filter((value) => value !== '')),
            ),
          ]),
        ),
      ) as fc.Arbitrary<Record<string, string>>,
      // Odd path segments sent as they are: encoded NUL, padded ids, a bad escape.
      rawSegment: fc.option(
        fc.constantFrom('%00', '%20ann%20', '%ZZ', '%2F..%2F', '%ud800', 'ann%00'),
        {
          freq: 4,
          nil: undefined,
        },
      ),
      query: record(operation.queryFields),
      body: fc.oneof(
        { weight: 6, arbitrary: record(operation.bodyFields) },
        fc.record({
          ...Object.fromEntries(operation.bodyFields.map((name) => [name, field(name)])),
          extra: hostile,
        }),
        hostile,
        fc.constant('{"user_id": "ann", "model": "unit"'),
      ),
      key: fc.constantFrom<FuzzRequest['key']>('admin', 'admin', 'metering', 'bogus'),
      idempotencyKey: fc.option(fc.constantFrom('k1', 'k2', 'x'.repeat(300), ''), {
        freq: 3,
        nil: undefined,
      }),
    })
  })
}

/** Everything a request could change, read straight from the ledger. */
async function fingerprint(ledger: Ledger, projectId: string): Promise<string> {
  const report = await ledger.verify(projectId)
  const users = await ledger.listUsers(projectId, { limit: 100 })
  const transactions = await ledger.listTransactions(projectId, { limit: 100 })
  const keys = await ledger.listApiKeys(projectId)
  const project = await ledger.getProject(projectId)
  return JSON.stringify({
    totals: report.totals,
    checked: report.checked,
    users: users.data,
    transactions: transactions.data,
    keys,
    config: project.config,
  })
}

type Target = {
  url: string
  ledger: Ledger
  projectId: string
  keys: Record<'admin' | 'metering' | 'bogus', string>
  client: CredlyClient
  close(): Promise<void>
}

/**
 * Percent-encodes every UTF-16 code unit as UTF-8 bytes, an unpaired surrogate included (as
 * WTF-8, which is what a hostile client sends; `encodeURIComponent` refuses it).
 */
function percentEncode(value: string): string {
  let out = ''
  for (const char of value) {
    const code = char.codePointAt(0) as number
    if (code >= 0xd800 && code <= 0xdfff) {
      out += [0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f)]
        .map((byte) => `%${byte.toString(16).toUpperCase()}`)
        .join('')
    } else {
      out += encodeURIComponent(char)
    }
  }
  return out
}

/** Sends one fuzzed request as raw HTTP, so nothing in between cleans it up. */
function send(target: Target, fuzz: FuzzRequest): Promise<{ status: number; body: string }> {
  let path = fuzz.operation.path.replace(/\{(\w+)\}/g, (_, name: string) =>
    percentEncode(fuzz.params[name] ?? 'ann'),
  )
  if (fuzz.rawSegment !== undefined && fuzz.operation.pathParams.length > 0) {
    path = fuzz.operation.path.replace(/\{(\w+)\}/g, fuzz.rawSegment)
  }
  const query = new URLSearchParams()
  for (const [name, value] of Object.entries(fuzz.query)) {
    query.set(name, typeof value === 'string' ? value : (JSON.stringify(value) ?? ''))
  }
  const search = query.size > 0 ? `?${query.toString()}` : ''
  const body =
    fuzz.operation.method === 'GET' || fuzz.operation.method === 'DELETE'
      ? undefined
      : typeof fuzz.body === 'string'
        ? fuzz.body
        : JSON.stringify(fuzz.body)
  const headers: Record<string, string> = { authorization: `Bearer ${target.keys[fuzz.key]}` }
  if (body !== undefined) headers['content-type'] = 'application/json'
  if (fuzz.idempotencyKey !== undefined) headers['idempotency-key'] = fuzz.idempotencyKey
  return new Promise((resolve, reject) => {
    const req = request(
      `${target.url}${path}${search}`,
      { method: fuzz.operation.method, headers },
      (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (chunk) => {
          text += chunk
        })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }))
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

async function startTarget(store: Store, cleanup: () => Promise<void>): Promise<Target> {
  const clock = createTestClock('2026-03-01T00:00:00.000Z')
  const ledger = createLedger({ store, clock })
  const project = await createProjectWithKeys(ledger, testConfig)
  const server: RunningServer = await startServer(createApp({ ledger, failedAuthLimit: false }), {
    port: 0,
  })
  const client = createClient({
    apiKey: project.admin_key,
    projectId: project.project_id,
    baseUrl: server.url,
    maxRetries: 0,
  })
  for (const user_id of ['ann', 'bob']) await client.createUser({ user_id })
  return {
    url: server.url,
    ledger,
    projectId: project.project_id,
    keys: { admin: project.admin_key, metering: project.metering_key, bogus: 'ck_admin_bogus' },
    client,
    close: async () => {
      await server.close({ timeoutMs: 1000 })
      await store.close()
      await cleanup()
    },
  }
}

const stores: Array<[string, () => Promise<{ store: Store; cleanup: () => Promise<void> }>]> = [
  [
    'SQLite',
    async () => {
      const folder = mkdtempSync(join(tmpdir(), 'credly-fuzz-'))
      return {
        store: createSqliteStore({ path: join(folder, 'fuzz.db') }),
        cleanup: async () => rmSync(folder, { recursive: true, force: true }),
      }
    },
  ],
]
if (await postgresAvailable()) {
  stores.push([
    'PostgreSQL',
    async () => {
      const { store, cleanup } = await postgresFactory()
      return { store, cleanup: cleanup ?? (async () => undefined) }
    },
  ])
}

describe.each(stores)('fuzzing the API on %s', (_name, open) => {
  let target: Target
  let operations: Operation[]
  const ids: Ids = { transactions: [], cursors: [] }
  beforeAll(async () => {
    const { store, cleanup } = await open()
    target = await startTarget(store, cleanup)
    operations = operationsOf(await (await fetch(`${target.url}/openapi.json`)).json())
  })
  afterAll(() => target?.close())

  it('covers every route of /openapi.json', () => {
    expect(operations.length).toBeGreaterThanOrEqual(20)
    expect(operations.map((operation) => `${operation.method} ${operation.path}`)).toContain(
      'POST /v1/usage/complete',
    )
  })

  it('no request gets a 5xx, a refused one changes nothing, verify() stays clean', async () => {
    const seen = new Map<number, number>()
    await fc.assert(
      fc.asyncProperty(
        fc.array(requestArbitrary(operations, ids), { minLength: 1, maxLength: 4 }),
        async (requests) => {
          for (const fuzz of requests) {
            const before = await fingerprint(target.ledger, target.projectId)
            const response = await send(target, fuzz)
            seen.set(response.status, (seen.get(response.status) ?? 0) + 1)
            expect(
              response.status,
              `${fuzz.operation.method} ${fuzz.operation.path}: ${response.body}`,
            ).toBeLessThan(500)
            if (response.status >= 400) {
              expect(await fingerprint(target.ledger, target.projectId), response.body).toBe(before)
            } else if (fuzz.operation.path === '/v1/usage/start') {
              const id = JSON.parse(response.body).transaction_id
              if (typeof id === 'string') ids.transactions.push(id)
            } else if (fuzz.operation.path === '/v1/users' && fuzz.operation.method === 'GET') {
              const cursor = JSON.parse(response.body).next_cursor
              if (typeof cursor === 'string') ids.cursors.push(cursor)
            }
          }
          expect((await target.ledger.verify(target.projectId)).differences).toEqual([])
        },
      ),
      { numRuns: runs, seed },
    )
    // The run reached past validation: some requests were accepted, some refused.
    expect([...seen.keys()].some((status) => status < 300)).toBe(true)
    expect([...seen.keys()].some((status) => status >= 400)).toBe(true)
  }, 180_000)

  it('every client method refuses hostile arguments with a 4xx error and changes nothing', async () => {
    const local = createLocalClient({ database: ':memory:', config: testConfig })
    await local.createUser({ user_id: 'ann' })
    const clients: Array<[string, CredlyClient, () => Promise<string>]> = [
      ['HTTP', target.client, () => fingerprint(target.ledger, target.projectId)],
      ['embedded', local, () => fingerprint(local.ledger, local.projectId)],
    ]
    const calls: Array<[string, (client: CredlyClient, value: unknown) => Promise<unknown>]> = [
      [
        'startUsageTransaction',
        (c, v) => c.startUsageTransaction({ user_id: 'ann', model: v } as never),
      ],
      [
        'startUsageTransaction tokens',
        (c, v) =>
          c.startUsageTransaction({
            user_id: 'ann',
            model: 'unit',
            provisional_tokens: { output_tokens: v },
          } as never),
      ],
      [
        'completeUsageTransaction',
        (c, v) =>
          c.completeUsageTransaction({
            transaction_id: v,
            success: true,
            finalized_tokens: {},
          } as never),
      ],
      [
        'extendUsageTransaction',
        (c, v) => c.extendUsageTransaction({ transaction_id: 'txn_x', ttl_seconds: v } as never),
      ],
      ['createUser', (c, v) => c.createUser({ user_id: v } as never)],
      ['createUser tier', (c, v) => c.createUser({ user_id: 'zed', tier_id: v } as never)],
      ['getUser', (c, v) => c.getUser(v as never)],
      ['getUsers', (c, v) => c.getUsers({ cursor: v } as never)],
      ['deleteUser', (c, v) => c.deleteUser(v as never)],
      ['changeUserTier', (c, v) => c.changeUserTier({ user_id: 'ann', tier_id: v } as never)],
      ['getBalance', (c, v) => c.getBalance(v as never)],
      ['grantCredits', (c, v) => c.grantCredits({ user_id: 'ann', credits: v } as never)],
      ['getTransactions', (c, v) => c.getTransactions({ model: v } as never)],
      ['getTransaction', (c, v) => c.getTransaction(v as never)],
    ]
    try {
      for (const [clientName, client, state] of clients) {
        await fc.assert(
          fc.asyncProperty(
            fc.constantFrom(...calls),
            fc.oneof(fc.constantFrom<unknown>(...hostileStrings, ...hostileNumbers), hostile),
            async ([name, call], value) => {
              const before = await state()
              const outcome = await call(client, value).then(
                () => 'resolved',
                (error: unknown) => error,
              )
              if (outcome === 'resolved') return
              const label = `${clientName} ${name}(${JSON.stringify(value)?.slice(0, 40)}): ${String(outcome)}`
              expect(CredlyApiError.isInstance(outcome), label).toBe(true)
              const status = (outcome as CredlyApiError).status
              expect(status >= 400 && status < 500, label).toBe(true)
              expect(await state(), label).toBe(before)
            },
          ),
          { numRuns: runs, seed },
        )
      }
      expect((await local.verify()).differences).toEqual([])
      expect((await target.ledger.verify(target.projectId)).differences).toEqual([])
    } finally {
      await local.close()
    }
  }, 180_000)
})
