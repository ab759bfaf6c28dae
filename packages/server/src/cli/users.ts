import {
  databaseOption,
  type Output,
  parse,
  projectOption,
  table,
  UsageError,
  withProject,
} from './shared.ts'

/** `credly users list|show|grant`. */
export async function usersCommand(args: string[], output: Output): Promise<number> {
  const { values, positionals } = parse(args, {
    credits: { type: 'string' },
    'expires-at': { type: 'string' },
    reason: { type: 'string' },
    limit: { type: 'string' },
    cursor: { type: 'string' },
    json: { type: 'boolean' },
    ...databaseOption,
    ...projectOption,
  })
  const [action, userId] = positionals
  return withProject(values, async (ledger, projectId) => {
    switch (action) {
      case 'list': {
        const page = await ledger.listUsers(projectId, {
          limit: values.limit === undefined ? undefined : Number(values.limit),
          cursor: values.cursor,
        })
        if (values.json) {
          output.out(`${JSON.stringify(page, null, 2)}\n`)
          return 0
        }
        output.out(
          table(
            ['user_id', 'tier', 'balance', 'held', 'next refill', 'created'],
            page.data.map((user) => [
              user.user_id,
              user.tier_id,
              String(user.balance),
              String(user.held),
              user.next_refill_at ?? '',
              user.created_at,
            ]),
          ),
        )
        if (page.next_cursor) output.out(`more: --cursor ${page.next_cursor}\n`)
        return 0
      }
      case 'show':
        if (!userId) throw new UsageError('users show needs a user id.')
        output.out(`${JSON.stringify(await ledger.getUser(projectId, userId), null, 2)}\n`)
        return 0
      case 'grant': {
        if (!userId) throw new UsageError('users grant needs a user id.')
        const credits = Number(values.credits)
        if (values.credits === undefined || !Number.isFinite(credits))
          throw new UsageError('users grant needs --credits N.')
        const grant = await ledger.grantCredits(projectId, {
          user_id: userId,
          credits,
          expires_at: values['expires-at'],
          reason: values.reason,
        })
        output.out(`${JSON.stringify(grant, null, 2)}\n`)
        return 0
      }
      default:
        throw new UsageError('users takes list, show or grant.')
    }
  })
}
