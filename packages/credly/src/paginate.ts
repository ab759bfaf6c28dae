import type { Page } from './schemas/common.ts'

/**
 * Every item of a paginated list, fetching the next page only when the loop gets there. Works
 * with `getTransactions` and `getUsers` of any `CredlyClient`.
 *
 * @example
 * ```ts
 * for await (const transaction of paginate((query) => credly.getTransactions(query), { user_id: 'user_42' })) {
 *   console.log(transaction.id, transaction.credits_used)
 * }
 * ```
 */
export async function* paginate<T, Q extends { cursor?: string; limit?: number }>(
  fetchPage: (query: Q) => Promise<Page<T>>,
  query: Q,
): AsyncGenerator<T, void, undefined> {
  let cursor = query.cursor
  for (;;) {
    const page = await fetchPage({ ...query, cursor })
    yield* page.data
    if (!page.has_more || page.next_cursor === null) return
    cursor = page.next_cursor
  }
}
