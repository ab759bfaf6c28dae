import {
  CredlyApiError,
  changeUserTierRequestSchema,
  createUserRequestSchema,
  defaultTierOf,
  grantCreditsRequestSchema,
  listUsersQuerySchema,
  parseOrThrow,
  userIdSchema,
} from 'credly/internal'
import { newId } from '../ids.ts'
import { toCredits, toMicro } from '../money.ts'
import type { Ledger } from './ledger.ts'
import { badCursor, type Units } from './units.ts'
import { changeTier, deleteUser, insertUser } from './users.ts'
import { decodeCursor, encodeCursor, toGrant, toUser } from './wire.ts'

/** Users: create, read, list, delete, change tier, and grant them credits. */
export function userOperations(
  units: Units,
): Pick<
  Ledger,
  | 'createUser'
  | 'getUser'
  | 'getBalance'
  | 'listUsers'
  | 'deleteUser'
  | 'changeUserTier'
  | 'grantCredits'
> {
  const { store, clock, loadProject, withUser, writeOnce, currentUser } = units
  return {
    async createUser(projectId, request, writeOptions = {}) {
      const input = parseOrThrow(createUserRequestSchema, request, 'createUser request')
      return writeOnce(
        {
          projectId,
          userId: input.user_id,
          operation: 'create_user',
          key: writeOptions.idempotencyKey,
          request: input,
        },
        async (tx) => {
          const { config } = await loadProject(tx, projectId)
          return toUser(
            await insertUser(tx, config, { ...input, project_id: projectId }, clock.now()),
            config,
          )
        },
      )
    },

    async getUser(projectId, userId) {
      const { user, config } = await currentUser(projectId, userId)
      return toUser(user, config)
    },

    async getBalance(projectId, userId) {
      const { user } = await currentUser(projectId, userId)
      return {
        user_id: user.user_id,
        balance: toCredits(user.available),
        held: toCredits(user.held),
      }
    },

    async listUsers(projectId, query = {}) {
      const input = parseOrThrow(listUsersQuerySchema, query, 'getUsers query')
      const limit = input.limit ?? 20
      const after = input.cursor === undefined ? undefined : decodeCursor(input.cursor)?.[0]
      if (input.cursor !== undefined && typeof after !== 'string') throw badCursor()
      const { project, rows } = await store.read(async (tx) => ({
        project: await loadProject(tx, projectId),
        rows: await tx.listUsers({
          project_id: projectId,
          limit: limit + 1,
          after: after as string | undefined,
          tier_id: input.tier_id,
        }),
      }))
      const page = rows.slice(0, limit)
      const now = clock.now()
      const users = await Promise.all(
        page.map(async (row) =>
          row.next_event_at !== null && row.next_event_at <= now
            ? toUser((await currentUser(projectId, row.user_id)).user, project.config)
            : toUser(row, project.config),
        ),
      )
      const last = page[page.length - 1]
      return {
        data: users,
        has_more: rows.length > limit,
        next_cursor: rows.length > limit && last ? encodeCursor([last.user_id]) : null,
      }
    },

    async deleteUser(projectId, userId, writeOptions = {}) {
      const id = parseOrThrow(userIdSchema, userId, 'user_id', 'user_id')
      return writeOnce(
        {
          projectId,
          userId: id,
          operation: 'delete_user',
          key: writeOptions.idempotencyKey,
          request: { user_id: id },
        },
        async (tx) => {
          await withUser(projectId, id, (book) => deleteUser(book), tx)
          return { user_id: id, deleted: true as const }
        },
      )
    },

    async changeUserTier(projectId, request, writeOptions = {}) {
      const input = parseOrThrow(changeUserTierRequestSchema, request, 'changeUserTier request')
      return writeOnce(
        {
          projectId,
          userId: input.user_id,
          operation: 'change_tier',
          key: writeOptions.idempotencyKey,
          request: input,
        },
        async (tx) => {
          const { user, project } = await withUser(
            projectId,
            input.user_id,
            (book) =>
              changeTier(
                book,
                input.tier_id ?? defaultTierOf(book.config),
                input.reset_balance ?? false,
                input.as_of === undefined ? null : Date.parse(input.as_of),
              ),
            tx,
          )
          return toUser(user, project.config)
        },
      )
    },

    async grantCredits(projectId, request, writeOptions = {}) {
      const input = parseOrThrow(grantCreditsRequestSchema, request, 'grantCredits request')
      const expiresAt = input.expires_at === undefined ? null : Date.parse(input.expires_at)
      if (expiresAt !== null && expiresAt <= clock.now()) {
        throw CredlyApiError.fromKind('validation-error', 'A grant must expire in the future.', {
          errors: [{ path: 'expires_at', message: `${input.expires_at} is not in the future` }],
        })
      }
      return writeOnce(
        {
          projectId,
          userId: input.user_id,
          operation: 'grant',
          key: writeOptions.idempotencyKey,
          request: input,
        },
        async (tx) =>
          (
            await withUser(
              projectId,
              input.user_id,
              async (book) => {
                const bucket = await book.addBucket(
                  {
                    id: newId('grant'),
                    kind: 'grant',
                    credits: toMicro(input.credits),
                    expires_at: expiresAt,
                    reason: input.reason ?? null,
                    created_at: book.now,
                  },
                  'grant',
                  input.reason === undefined ? null : { reason: input.reason },
                )
                return toGrant(bucket, input.user_id)
              },
              tx,
            )
          ).result,
      )
    },
  }
}
