/**
 * A small HTTP server on 127.0.0.1 that speaks Credly's wire contract, for tests and examples of
 * code that uses the client, until `@credly/server` exists. It validates every request with the shared
 * schemas (so client and contract cannot drift), keeps users and transactions in memory with
 * integer micro-credits, honours `Idempotency-Key`, and can be told to fail or stall the next
 * requests so retries and timeouts are tested over a real socket.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { z } from 'zod'
import {
  changeUserTierRequestSchema,
  completeUsageRequestSchema,
  createUserRequestSchema,
  extendUsageRequestSchema,
  grantCreditsRequestSchema,
  listTransactionsQuerySchema,
  listUsersQuerySchema,
  type ProblemSlug,
  problemType,
  startUsageRequestSchema,
  type TokenCounts,
  type Transaction,
  type User,
} from '../index.ts'
import { toFieldErrors } from '../validate.ts'

export type RecordedRequest = {
  method: string
  path: string
  headers: Record<string, string | string[] | undefined>
  body: unknown
}

/** A scripted answer for the next matching request, instead of the real one. */
export type Fault =
  | {
      kind: 'status'
      status: number
      headers?: Record<string, string>
      body?: string
      contentType?: string
    }
  | { kind: 'stall'; ms: number }
  | { kind: 'destroy' }
  /** Process the request for real, then drop the connection before the answer is sent. */
  | { kind: 'drop-response' }

export const API_KEY = 'ck_test_contract'
export const PROJECT_ID = 'prj_contract'
/** Credits per million tokens of the models this server knows. */
export const PRICES: Record<string, { input: number; output: number }> = {
  'gpt-4o': { input: 2.5, output: 10 },
  'tiny-model': { input: 1_000_000, output: 1_000_000 },
}
const TIER_CREDITS: Record<string, number> = { free: 100, pro: 5000 }

type UserState = { user: User; micro: number; heldMicro: number }
type TransactionState = Transaction & { completeBody?: string; reservedMicro: number }

export class ContractServer {
  readonly requests: RecordedRequest[] = []
  private readonly faults: Array<{ path: string; fault: Fault }> = []
  private readonly users = new Map<string, UserState>()
  private readonly transactions = new Map<string, TransactionState>()
  private readonly idempotent = new Map<
    string,
    { body: string; status: number; response: string }
  >()
  private nextId = 1
  private readonly server = createServer((request, response) => {
    this.handle(request, response).catch((error: unknown) => {
      response.statusCode = 500
      response.end(String(error))
    })
  })

  /** Starts listening on a free port of 127.0.0.1. */
  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve))
    const { port } = this.server.address() as AddressInfo
    return `http://127.0.0.1:${port}`
  }

  async close(): Promise<void> {
    this.server.closeAllConnections()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  /** The next `count` requests to `path` get `fault` instead of their real answer. */
  failNext(path: string, fault: Fault, count = 1): void {
    for (let index = 0; index < count; index++) this.faults.push({ path, fault })
  }

  /** Requests the server received for `path` (all paths when omitted). */
  received(path?: string): RecordedRequest[] {
    return path === undefined
      ? this.requests
      : this.requests.filter((request) => request.path === path)
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1')
    const text = await readText(request)
    const body = text.length > 0 ? safeJson(text) : undefined
    this.requests.push({
      method: request.method ?? 'GET',
      path: url.pathname,
      headers: request.headers,
      body,
    })

    const faultIndex = this.faults.findIndex((entry) => entry.path === url.pathname)
    let dropResponse = false
    if (faultIndex >= 0) {
      const fault = (this.faults.splice(faultIndex, 1)[0] as { fault: Fault }).fault
      if (fault.kind === 'drop-response') {
        dropResponse = true
      } else if (fault.kind === 'destroy') {
        request.socket.destroy()
        return
      }
      if (fault.kind === 'stall') {
        await new Promise((resolve) => setTimeout(resolve, fault.ms))
      } else if (fault.kind === 'status') {
        response.writeHead(fault.status, {
          'content-type': fault.contentType ?? 'application/problem+json',
          ...fault.headers,
        })
        response.end(fault.body ?? '')
        return
      }
    }

    if (request.headers.authorization !== `Bearer ${API_KEY}`) {
      return send(
        response,
        401,
        problem('unauthorized', 'Unauthorized', 401, 'Missing or unknown API key.'),
      )
    }
    if (request.headers['credly-project'] !== PROJECT_ID) {
      return send(
        response,
        404,
        problem('not-found', 'Not Found', 404, 'No such project for this key.'),
      )
    }

    if (dropResponse) {
      // Headers are only flushed by end(), so destroying there sends nothing back.
      response.end = (() => {
        request.socket.destroy()
        return response
      }) as typeof response.end
    }

    const key = request.headers['idempotency-key']
    if (typeof key === 'string' && request.method !== 'GET') {
      const previous = this.idempotent.get(key)
      if (previous) {
        if (previous.body !== text) {
          return send(
            response,
            409,
            problem(
              'idempotency-conflict',
              'Conflict',
              409,
              'Idempotency-Key was used with a different body.',
            ),
          )
        }
        response.writeHead(previous.status, {
          'content-type': 'application/json',
          'idempotent-replayed': 'true',
        })
        response.end(previous.response)
        return
      }
      const [status, payload] = this.route(request.method ?? 'GET', url, body)
      const serialized = JSON.stringify(payload)
      if (status < 500) this.idempotent.set(key, { body: text, status, response: serialized })
      return sendRaw(response, status, serialized)
    }
    const [status, payload] = this.route(request.method ?? 'GET', url, body)
    return sendRaw(response, status, JSON.stringify(payload))
  }

  private route(method: string, url: URL, body: unknown): [number, unknown] {
    const path = url.pathname
    const userMatch = /^\/v1\/users\/([^/]+)(\/tier|\/balance|\/grants)?$/.exec(path)
    const transactionMatch = /^\/v1\/transactions\/([^/]+)$/.exec(path)
    if (method === 'POST' && path === '/v1/usage/start') return this.start(body)
    if (method === 'POST' && path === '/v1/usage/complete') return this.complete(body)
    if (method === 'POST' && path === '/v1/usage/extend') return this.extend(body)
    if (method === 'POST' && path === '/v1/users') return this.createUser(body)
    if (method === 'GET' && path === '/v1/users') return this.listUsers(url)
    if (method === 'GET' && path === '/v1/transactions') return this.listTransactions(url)
    if (transactionMatch && method === 'GET') {
      const transaction = this.transactions.get(decodeURIComponent(transactionMatch[1] as string))
      if (!transaction) return notFound('transaction-not-found', 'No such transaction.')
      return [200, publicTransaction(transaction)]
    }
    if (userMatch) {
      const userId = decodeURIComponent(userMatch[1] as string)
      const state = this.users.get(userId)
      if (!state) return notFound('user-not-found', `No user "${userId}" in this project.`)
      const sub = userMatch[2]
      if (method === 'GET' && sub === undefined) return [200, this.publicUser(state)]
      if (method === 'GET' && sub === '/balance') {
        return [200, { user_id: userId, balance: state.micro / 1e6, held: state.heldMicro / 1e6 }]
      }
      if (method === 'DELETE' && sub === undefined) {
        this.users.delete(userId)
        return [200, { user_id: userId, deleted: true }]
      }
      if (method === 'POST' && sub === '/tier') {
        const parsed = validate(changeUserTierRequestSchema.omit({ user_id: true }), body)
        if ('problem' in parsed) return parsed.problem
        if (!(parsed.data.tier_id in TIER_CREDITS)) return notFound('unknown-tier', 'No such tier.')
        state.user.tier_id = parsed.data.tier_id
        if (parsed.data.reset_balance)
          state.micro = (TIER_CREDITS[parsed.data.tier_id] as number) * 1e6
        return [200, this.publicUser(state)]
      }
      if (method === 'POST' && sub === '/grants') {
        const parsed = validate(grantCreditsRequestSchema.omit({ user_id: true }), body)
        if ('problem' in parsed) return parsed.problem
        state.micro += Math.round(parsed.data.credits * 1e6)
        return [
          201,
          {
            id: `grt_${this.nextId++}`,
            user_id: userId,
            credits: parsed.data.credits,
            remaining: parsed.data.credits,
            expires_at: parsed.data.expires_at ?? null,
            reason: parsed.data.reason ?? null,
            created_at: new Date().toISOString(),
          },
        ]
      }
    }
    return notFound('not-found', `No route ${method} ${path}.`)
  }

  private start(body: unknown): [number, unknown] {
    const parsed = validate(startUsageRequestSchema, body)
    if ('problem' in parsed) return parsed.problem
    const request = parsed.data
    const state = this.users.get(request.user_id)
    if (!state) return notFound('user-not-found', `No user "${request.user_id}" in this project.`)
    const price = PRICES[request.model]
    if (!price) {
      return [
        400,
        problem(
          'unknown-model',
          'Unknown model',
          400,
          `Model "${request.model}" has no price in this project.`,
        ),
      ]
    }
    const micro = priceMicro(price, request.provisional_tokens)
    const allowed = request.provisional_tokens ? state.micro >= micro : state.micro > 0
    if (!allowed) {
      return [
        200,
        {
          transaction_id: null,
          continue: false,
          balance: state.micro / 1e6,
          credits_used: 0,
          credits_required: micro / 1e6,
          message: `Insufficient credits: ${micro / 1e6} needed, ${state.micro / 1e6} available.`,
          reason: 'insufficient_credits',
          retry_after_seconds: null,
        },
      ]
    }
    state.micro -= micro
    state.heldMicro += micro
    const now = new Date()
    const id = `txn_${this.nextId++}`
    this.transactions.set(id, {
      id,
      user_id: request.user_id,
      model: request.model,
      feature_identifier: request.feature_identifier ?? null,
      status: 'pending',
      credits_reserved: micro / 1e6,
      credits_used: 0,
      provisional_tokens: request.provisional_tokens ?? null,
      finalized_tokens: null,
      price,
      estimated: false,
      created_at: now.toISOString(),
      completed_at: null,
      expires_at: new Date(now.getTime() + 900_000).toISOString(),
      reservedMicro: micro,
    })
    return [
      200,
      {
        transaction_id: id,
        continue: true,
        balance: state.micro / 1e6,
        credits_used: micro / 1e6,
        credits_required: micro / 1e6,
        message: 'Reserved.',
        reason: null,
        retry_after_seconds: null,
      },
    ]
  }

  private complete(body: unknown): [number, unknown] {
    const parsed = validate(completeUsageRequestSchema, body)
    if ('problem' in parsed) return parsed.problem
    const request = parsed.data
    const transaction = this.transactions.get(request.transaction_id)
    if (!transaction) return notFound('transaction-not-found', 'No such transaction.')
    const state = this.users.get(transaction.user_id)
    const canonical = JSON.stringify(request)
    if (transaction.status !== 'pending') {
      if (transaction.completeBody !== canonical) {
        return [
          409,
          problem(
            'transaction-conflict',
            'Conflict',
            409,
            'The transaction was already completed with another body.',
          ),
        ]
      }
    } else {
      const used = priceMicro(transaction.price, request.finalized_tokens)
      if (state) {
        state.heldMicro -= transaction.reservedMicro
        state.micro += transaction.reservedMicro - used
      }
      transaction.status = request.success ? 'completed' : 'failed'
      transaction.credits_used = used / 1e6
      transaction.finalized_tokens = request.finalized_tokens
      transaction.estimated = request.estimated ?? false
      transaction.completed_at = new Date().toISOString()
      transaction.expires_at = null
      transaction.completeBody = canonical
    }
    const usedMicro = Math.round(transaction.credits_used * 1e6)
    return [
      200,
      {
        transaction_id: transaction.id,
        credits_used: transaction.credits_used,
        balance: (state?.micro ?? 0) / 1e6,
        balanceAdjustment: (transaction.reservedMicro - usedMicro) / 1e6,
      },
    ]
  }

  private extend(body: unknown): [number, unknown] {
    const parsed = validate(extendUsageRequestSchema, body)
    if ('problem' in parsed) return parsed.problem
    const transaction = this.transactions.get(parsed.data.transaction_id)
    if (!transaction) return notFound('transaction-not-found', 'No such transaction.')
    if (transaction.status !== 'pending') {
      return [
        409,
        problem(
          'transaction-conflict',
          'Conflict',
          409,
          `The transaction is ${transaction.status}.`,
        ),
      ]
    }
    transaction.expires_at = new Date(
      Date.now() + (parsed.data.ttl_seconds ?? 900) * 1000,
    ).toISOString()
    return [200, publicTransaction(transaction)]
  }

  private createUser(body: unknown): [number, unknown] {
    const parsed = validate(createUserRequestSchema, body)
    if ('problem' in parsed) return parsed.problem
    const request = parsed.data
    if (this.users.has(request.user_id)) {
      return [
        409,
        problem('user-exists', 'Conflict', 409, `User "${request.user_id}" already exists.`),
      ]
    }
    const tier = request.tier_id ?? 'free'
    const credits = TIER_CREDITS[tier]
    if (credits === undefined)
      return [400, problem('unknown-tier', 'Unknown tier', 400, `No tier "${tier}".`)]
    const state: UserState = {
      user: {
        user_id: request.user_id,
        tier_id: tier,
        balance: credits,
        held: 0,
        next_refill_at: null,
        metadata: request.metadata ?? {},
        created_at: new Date().toISOString(),
      },
      micro: credits * 1e6,
      heldMicro: 0,
    }
    this.users.set(request.user_id, state)
    return [201, this.publicUser(state)]
  }

  private listUsers(url: URL): [number, unknown] {
    const parsed = validate(listUsersQuerySchema, Object.fromEntries(url.searchParams))
    if ('problem' in parsed) return parsed.problem
    const all = [...this.users.values()]
      .filter((state) => !parsed.data.tier_id || state.user.tier_id === parsed.data.tier_id)
      .map((state) => this.publicUser(state))
    return [200, paginate(all, (user) => user.user_id, parsed.data)]
  }

  private listTransactions(url: URL): [number, unknown] {
    const parsed = validate(listTransactionsQuerySchema, Object.fromEntries(url.searchParams))
    if ('problem' in parsed) return parsed.problem
    const query = parsed.data
    const all = [...this.transactions.values()]
      .reverse()
      .filter(
        (transaction) =>
          (!query.user_id || transaction.user_id === query.user_id) &&
          (!query.status || transaction.status === query.status) &&
          (!query.model || transaction.model === query.model) &&
          (!query.feature_identifier ||
            transaction.feature_identifier === query.feature_identifier),
      )
      .map(publicTransaction)
    return [200, paginate(all, (transaction) => transaction.id, query)]
  }

  private publicUser(state: UserState): User {
    return { ...state.user, balance: state.micro / 1e6, held: state.heldMicro / 1e6 }
  }
}

function priceMicro(
  price: { input: number; output: number },
  tokens: TokenCounts | undefined,
): number {
  return Math.ceil(
    (tokens?.input_tokens ?? 0) * price.input + (tokens?.output_tokens ?? 0) * price.output,
  )
}

function publicTransaction(transaction: TransactionState): Transaction {
  const { completeBody: _body, reservedMicro: _reserved, ...rest } = transaction
  return rest
}

function paginate<T>(
  items: T[],
  idOf: (item: T) => string,
  query: { limit?: number; cursor?: string },
) {
  const start = query.cursor ? items.findIndex((item) => idOf(item) === query.cursor) + 1 : 0
  const limit = query.limit ?? 20
  const data = items.slice(start, start + limit)
  const hasMore = start + limit < items.length
  return { data, has_more: hasMore, next_cursor: hasMore ? idOf(data[data.length - 1] as T) : null }
}

function validate<S extends z.ZodType>(
  schema: S,
  body: unknown,
): { data: z.output<S> } | { problem: [number, unknown] } {
  const result = schema.safeParse(body)
  if (result.success) return { data: result.data }
  return {
    problem: [
      400,
      {
        ...problem('validation-error', 'Invalid request', 400, 'The request body is invalid.'),
        errors: toFieldErrors(result.error),
      },
    ],
  }
}

function problem(slug: ProblemSlug, title: string, status: number, detail: string) {
  return { type: problemType(slug), title, status, detail }
}

function notFound(slug: ProblemSlug, detail: string): [number, unknown] {
  return [404, problem(slug, 'Not Found', 404, detail)]
}

function send(response: ServerResponse, status: number, body: unknown): void {
  sendRaw(response, status, JSON.stringify(body))
}

function sendRaw(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, {
    'content-type': status >= 400 ? 'application/problem+json' : 'application/json',
    'x-request-id': `req_${Math.random().toString(36).slice(2, 10)}`,
  })
  response.end(text)
}

async function readText(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of request) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}
