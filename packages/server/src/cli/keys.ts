import {
  databaseOption,
  type Output,
  parse,
  projectOption,
  table,
  UsageError,
  withProject,
} from './shared.ts'

/** `credly keys create|list|revoke`. */
export async function keysCommand(args: string[], output: Output): Promise<number> {
  const { values, positionals } = parse(args, {
    scope: { type: 'string' },
    name: { type: 'string' },
    json: { type: 'boolean' },
    ...databaseOption,
    ...projectOption,
  })
  const [action, keyId] = positionals
  return withProject(values, async (ledger, projectId) => {
    switch (action) {
      case 'create': {
        if (values.scope !== 'admin' && values.scope !== 'metering')
          throw new UsageError('keys create needs --scope admin or --scope metering.')
        const key = await ledger.createApiKey(projectId, { scope: values.scope, name: values.name })
        output.out(
          values.json
            ? `${JSON.stringify(key)}\n`
            : `${key.key}\n(id ${key.id}, ${key.scope}; shown once)\n`,
        )
        return 0
      }
      case 'list': {
        const keys = await ledger.listApiKeys(projectId)
        output.out(
          values.json
            ? `${JSON.stringify(keys)}\n`
            : table(
                ['id', 'key', 'scope', 'state', 'created', 'name'],
                keys.map((key) => [
                  key.id,
                  `${key.prefix}…`,
                  key.scope,
                  key.revoked_at ? `revoked ${key.revoked_at}` : 'live',
                  key.created_at,
                  key.name ?? '',
                ]),
              ),
        )
        return 0
      }
      case 'revoke':
        if (!keyId)
          throw new UsageError('keys revoke needs the key id, e.g. `credly keys revoke key_...`.')
        await ledger.revokeApiKey(projectId, keyId)
        output.out(`revoked ${keyId}\n`)
        return 0
      default:
        throw new UsageError('keys takes create, list or revoke.')
    }
  })
}
