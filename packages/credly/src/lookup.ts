import { CredlyApiError } from './errors.ts'
import { userIdSchema } from './schemas/common.ts'
import { transactionIdSchema } from './schemas/transactions.ts'
import { type CreateUserRequest, createUserRequestSchema } from './schemas/users.ts'
import { parseOrThrow } from './validate.ts'

/**
 * A user to look up: its id, or `{ id }` as the original `credly` package took it
 * (`getUser({ id: 'user_42' })`), or `{ user_id }`.
 */
export type UserLookup = string | { id: string } | { user_id: string }

/** A transaction to look up: its id, `{ id }` (the original package's form) or `{ transaction_id }`. */
export type TransactionLookup = string | { id: string } | { transaction_id: string }

/** `createUser`'s argument: `{ user_id, ... }`, or `{ id, ... }` as the original package took it. */
export type CreateUserInput =
  | CreateUserRequest
  | (Omit<CreateUserRequest, 'user_id'> & { id: string; user_id?: never })

/** The user id of a `UserLookup`, validated; a wrong shape names the accepted forms. */
export function userIdOf(value: UserLookup, method: string): string {
  return parseOrThrow(userIdSchema, idOf(value, 'user_id', method), 'user_id', 'user_id')
}

/** The transaction id of a `TransactionLookup`, validated; a wrong shape names the accepted forms. */
export function transactionIdOf(value: TransactionLookup, method: string): string {
  return parseOrThrow(
    transactionIdSchema,
    idOf(value, 'transaction_id', method),
    'transaction_id',
    'transaction_id',
  )
}

/**
 * `createUser`'s argument as the validated wire body: `{ id }` becomes `{ user_id }`; a bad one
 * is a `ValidationError` that names both accepted forms.
 */
export function createUserRequestOf(value: CreateUserInput): CreateUserRequest {
  let request: unknown = value
  if (typeof value === 'object' && value !== null && 'id' in value) {
    const { id, ...rest } = value as { id: unknown; user_id?: unknown }
    if (rest.user_id !== undefined && rest.user_id !== id) {
      throw shapeError(
        'createUser',
        'user_id',
        `createUser got both "id" and "user_id"; pass one: createUser({ user_id: 'user_42' }) or createUser({ id: 'user_42' }).`,
      )
    }
    request = { ...rest, user_id: id }
  }
  return parseOrThrow(
    createUserRequestSchema,
    request,
    'createUser request (pass { user_id, tier_id?, metadata? }, or { id, ... } as the original credly package)',
  )
}

function idOf(value: unknown, field: 'user_id' | 'transaction_id', method: string): unknown {
  if (typeof value === 'string') return value
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const keys = Object.keys(value)
    if (keys.length === 1 && (keys[0] === 'id' || keys[0] === field))
      return (value as Record<string, unknown>)[keys[0]]
  }
  const example = field === 'user_id' ? 'user_42' : 'txn_123'
  throw shapeError(
    method,
    field,
    `${method} takes a ${field === 'user_id' ? 'user' : 'transaction'} id: ${method}('${example}'), ${method}({ id: '${example}' }) or ${method}({ ${field}: '${example}' }).`,
  )
}

function shapeError(method: string, field: string, detail: string): CredlyApiError {
  return CredlyApiError.fromKind('validation-error', detail, {
    errors: [{ path: field, message: `${method}: unrecognized argument shape` }],
  })
}
