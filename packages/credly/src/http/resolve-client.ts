import { type CredlyClient, createClient } from '../client.ts'
import { CredlyError } from '../errors.ts'

/**
 * The client an adapter uses: the one given, else one from the environment:
 * `CREDLY_API_KEY` (with `CREDLY_PROJECT_ID`, `CREDLY_BASE_URL`) for a Credly server, or
 * `CREDLY_DATABASE` (with `CREDLY_CONFIG`, a JSON file) for the embedded ledger, which needs
 * `@credly/ledger` installed. Resolved once, on the first request.
 */
export function clientResolver(client: CredlyClient | undefined): () => Promise<CredlyClient> {
  let resolved: Promise<CredlyClient> | undefined
  return () => {
    resolved ??= client ? Promise.resolve(client) : fromEnvironment()
    return resolved
  }
}

async function fromEnvironment(): Promise<CredlyClient> {
  if (process.env.CREDLY_API_KEY) return createClient()
  const database = process.env.CREDLY_DATABASE
  if (database) {
    const config = process.env.CREDLY_CONFIG
    if (!config)
      throw new CredlyError(
        'CREDLY_DATABASE is set but CREDLY_CONFIG is not: name the project config JSON file.',
      )
    // An optional package: bundlers must leave this import to run time.
    const ledgerPackage = '@credly/ledger'
    const ledger = (await import(
      /* webpackIgnore: true */ /* turbopackIgnore: true */ ledgerPackage
    ).catch((cause: unknown) => {
      throw new CredlyError(
        'CREDLY_DATABASE needs @credly/ledger installed for the embedded ledger.',
        { cause },
      )
    })) as { createLocalClient(options: { database: string; config: string }): CredlyClient }
    return ledger.createLocalClient({ database, config })
  }
  throw new CredlyError(
    'The Credly adapter has no client: pass { client }, or set CREDLY_API_KEY and CREDLY_PROJECT_ID (a Credly server), or CREDLY_DATABASE and CREDLY_CONFIG (the embedded ledger).',
  )
}
