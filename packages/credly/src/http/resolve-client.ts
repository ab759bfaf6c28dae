import { type CredlyClient, createClient } from '../client.ts'
import { CredlyError } from '../errors.ts'

type EmbeddedLedger = {
  createLocalClient(options: { database: string; config: string }): CredlyClient
}

/**
 * The client an adapter uses: the one given, else one from the environment:
 * `CREDLY_API_KEY` (with `CREDLY_PROJECT_ID`, `CREDLY_BASE_URL`) for a Credly server, or
 * `CREDLY_DATABASE` (with `CREDLY_CONFIG`, a JSON file) for the embedded ledger, which needs
 * `@credly/ledger` installed.
 *
 * Checked when the adapter is created (`credly()`, `withCredits()`), so a missing client fails at
 * startup with a clear error rather than on the first request. `eager: false` defers that to the
 * first request, for code that is loaded where the environment is not set (a `next build`).
 */
export function clientResolver(
  client: CredlyClient | undefined,
  options: { eager?: boolean } = {},
): () => Promise<CredlyClient> {
  if (client) {
    const given = Promise.resolve(client)
    return () => given
  }
  let resolved: Promise<CredlyClient> | undefined
  if (options.eager ?? true) {
    // Throws now when nothing is configured; the embedded ledger loads in the background and
    // reports a failure on first use.
    resolved = Promise.resolve(fromEnvironment())
    resolved.catch(() => undefined)
  }
  return () => {
    resolved ??= Promise.resolve().then(fromEnvironment)
    return resolved
  }
}

/**
 * A client from the environment: an HTTP client at once (or its error), or a promise of the
 * embedded one, whose package is imported at run time.
 */
function fromEnvironment(): CredlyClient | Promise<CredlyClient> {
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
    return import(/* webpackIgnore: true */ /* turbopackIgnore: true */ ledgerPackage).then(
      (ledger: EmbeddedLedger) => ledger.createLocalClient({ database, config }),
      (cause: unknown) => {
        throw new CredlyError(
          'CREDLY_DATABASE needs @credly/ledger installed for the embedded ledger.',
          { cause },
        )
      },
    )
  }
  throw new CredlyError(
    'The Credly adapter has no client: pass { client }, or set CREDLY_API_KEY and CREDLY_PROJECT_ID (a Credly server), or CREDLY_DATABASE and CREDLY_CONFIG (the embedded ledger).',
  )
}
