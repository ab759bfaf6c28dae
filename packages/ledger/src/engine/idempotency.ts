import { hash } from 'node:crypto'
import { CredlyApiError } from 'credly'
import type { StoreWriter } from '../stores/store.ts'

/** A stable hash of a request: the same fields in any key order hash the same. */
export function requestHash(value: unknown): string {
  // One call, no Hash object: per request, and each object left for the garbage collector costs.
  return hash('sha256', canonicalJson(value), 'base64url')
}

function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null'
  // Loops rather than array methods: it runs for every start and complete.
  let out: string
  if (Array.isArray(value)) {
    out = '['
    for (let index = 0; index < value.length; index++)
      out += (index === 0 ? '' : ',') + canonicalJson(value[index])
    return `${out}]`
  }
  out = '{'
  for (const key of sortedKeys(value)) {
    const item = (value as Record<string, unknown>)[key]
    if (item === undefined) continue
    out += `${out === '{' ? '' : ','}${JSON.stringify(key)}:${canonicalJson(item)}`
  }
  return `${out}}`
}

/**
 * An object's keys in code-unit order, as `sort()` orders them: by insertion, since a request has
 * a few keys and `Array.prototype.sort` copies its array each call.
 */
function sortedKeys(value: object): string[] {
  const keys = Object.keys(value)
  for (let index = 1; index < keys.length; index++) {
    const key = keys[index] as string
    let at = index
    for (; at > 0 && (keys[at - 1] as string) > key; at--) keys[at] = keys[at - 1] as string
    keys[at] = key
  }
  return keys
}

/**
 * Runs `work` once per idempotency key: the key and the response are stored in the same unit of
 * work as the effect, so a retry after a crash or a lost response returns the first answer, and
 * the same key with a different request is a conflict. Without a key, `work` just runs.
 */
export async function once<T>(
  tx: StoreWriter,
  scope: {
    projectId: string
    operation: string
    key: string | undefined
    request: unknown
    now: number
  },
  work: () => Promise<T>,
): Promise<T> {
  if (scope.key === undefined) return work()
  const hash = requestHash(scope.request)
  const previous = await tx.getIdempotency(scope.projectId, scope.operation, scope.key)
  if (previous) {
    if (previous.request_hash !== hash) {
      throw CredlyApiError.fromKind(
        'idempotency-conflict',
        `Idempotency-Key "${scope.key}" was already used for a different ${scope.operation} request. Use a new key for a new request.`,
      )
    }
    return previous.response as T
  }
  const response = await work()
  await tx.putIdempotency({
    project_id: scope.projectId,
    scope: scope.operation,
    key: scope.key,
    request_hash: hash,
    response,
    created_at: scope.now,
  })
  return response
}
