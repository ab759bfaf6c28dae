import { hash } from 'node:crypto'
import { CredlyApiError, parseOrThrow, textSchema } from 'credly/internal'
import { newId, randomBase32 } from '../ids.ts'
import type { ApiKeyRow, Store } from '../stores/store.ts'

/** What a key may do: `metering` (usage, users, reads) or `admin` (everything). */
export type ApiKeyScope = ApiKeyRow['scope']

/** An API key as listed: never its secret. */
export type ApiKeyInfo = {
  id: string
  name: string | null
  scope: ApiKeyScope
  /** The start of the secret, to recognise a key by. */
  prefix: string
  created_at: string
  revoked_at: string | null
}

/** A new key: `key` is the secret, shown this once and stored only as a hash. */
export type CreatedApiKey = ApiKeyInfo & { key: string }

/** Who a valid key belongs to. */
export type ApiKeyIdentity = { key_id: string; project_id: string; scope: ApiKeyScope }

const keyIdSchema = textSchema('key_id', { min: 1, max: 100 })

/** SHA-256 of a secret. A key has 128 random bits, so a fast hash is as safe as a slow one. */
export function hashApiKey(secret: string): string {
  return hash('sha256', secret, 'hex')
}

/** Creates a key for a project: `ck_admin_...` or `ck_meter_...` with 128 random bits. */
export async function createApiKey(
  store: Store,
  projectId: string,
  options: { scope: ApiKeyScope; name?: string | undefined },
  now: number,
): Promise<CreatedApiKey> {
  const key = `ck_${options.scope === 'admin' ? 'admin' : 'meter'}_${randomBase32(16)}`
  const row: ApiKeyRow = {
    id: newId('apiKey'),
    project_id: projectId,
    name: options.name ?? null,
    scope: options.scope,
    prefix: key.slice(0, 14),
    hash: hashApiKey(key),
    created_at: now,
    revoked_at: null,
  }
  await store.write(async (tx) => {
    if (!(await tx.getProject(projectId))) throw projectNotFound(projectId)
    await tx.insertApiKey(row)
  })
  return { ...toApiKeyInfo(row), key }
}

/**
 * Live keys recently seen, by hash, so a request does not read its key from the store each time
 * (on PostgreSQL that read was half of a metered call's round trips). A key revoked through this
 * ledger is dropped at once; one revoked by another process is refused once its entry is older
 * than `ttlMs`. Unknown and revoked keys are never kept: a flood of wrong keys cannot grow it.
 */
export class ApiKeyCache {
  readonly #entries = new Map<string, { identity: ApiKeyIdentity; until: number }>()
  readonly ttlMs: number
  readonly maxEntries: number
  constructor(ttlMs: number, maxEntries = 10_000) {
    this.ttlMs = ttlMs
    this.maxEntries = maxEntries
  }

  get(hash: string, now: number): ApiKeyIdentity | undefined {
    const entry = this.#entries.get(hash)
    if (entry && entry.until > now) return entry.identity
    if (entry) this.#entries.delete(hash)
    return undefined
  }

  set(hash: string, identity: ApiKeyIdentity, now: number): void {
    if (this.ttlMs <= 0) return
    if (this.#entries.size >= this.maxEntries) this.#entries.clear()
    this.#entries.set(hash, { identity, until: now + this.ttlMs })
  }

  forget(keyId: string): void {
    for (const [hash, entry] of this.#entries)
      if (entry.identity.key_id === keyId) this.#entries.delete(hash)
  }
}

/** The project and scope of a live key, or undefined for an unknown or revoked one. */
export async function authenticateApiKey(
  store: Store,
  secret: string,
  cache: ApiKeyCache,
  now: number,
): Promise<ApiKeyIdentity | undefined> {
  const hash = hashApiKey(secret)
  const cached = cache.get(hash, now)
  if (cached) return cached
  const row = await store.read((tx) => tx.getApiKeyByHash(hash))
  if (!row || row.revoked_at !== null) return undefined
  const identity: ApiKeyIdentity = { key_id: row.id, project_id: row.project_id, scope: row.scope }
  cache.set(hash, identity, now)
  return identity
}

export async function listApiKeys(store: Store, projectId: string): Promise<ApiKeyInfo[]> {
  return (await store.read((tx) => tx.listApiKeys(projectId))).map(toApiKeyInfo)
}

/** Revokes a key; it fails on the next request that uses it (see `ApiKeyCache` for others). */
export async function revokeApiKey(
  store: Store,
  projectId: string,
  keyId: string,
  now: number,
  cache: ApiKeyCache,
): Promise<void> {
  const id = parseOrThrow(keyIdSchema, keyId, 'key_id', 'key_id')
  const revoked = await store.write((tx) => tx.revokeApiKey(projectId, id, now))
  cache.forget(id)
  if (!revoked) {
    throw CredlyApiError.fromKind('not-found', `No live API key "${keyId}" in this project.`)
  }
}

function toApiKeyInfo(row: ApiKeyRow): ApiKeyInfo {
  return {
    id: row.id,
    name: row.name,
    scope: row.scope,
    prefix: row.prefix,
    created_at: new Date(row.created_at).toISOString(),
    revoked_at: row.revoked_at === null ? null : new Date(row.revoked_at).toISOString(),
  }
}

export function projectNotFound(projectId: string): CredlyApiError {
  return CredlyApiError.fromKind('not-found', `No project "${projectId}".`)
}
