import { VERSION } from 'credly'

import { initCommand } from './init.ts'
import { keysCommand } from './keys.ts'
import { modelsCommand } from './models.ts'
import { transactionsCommand, usageCommand } from './reports.ts'
import { serveCommand } from './serve.ts'
import { describeError, type Output, UsageError } from './shared.ts'
import { usersCommand } from './users.ts'
import { migrateCommand, verifyCommand } from './verify.ts'

const HELP = `credly ${VERSION}: meter LLM usage as credits

Usage:
  credly serve   [--config FILE] [--database PATH|URL] [--port N] [--host H] [--project ID]
                 [--rate-limit N] [--failed-auth-limit N] [--max-connections N]
                 [--headers-timeout S] [--request-timeout S] [--keep-alive-timeout S]
                 [--key-cache S] [--pg-pool N] [--pg-write-transactions N]
  credly init    --config FILE [--database PATH|URL] [--json] [--new-project]
  credly keys    create --scope admin|metering [--name NAME] | list | revoke KEY_ID   [--project ID] [--json]
  credly users   list | show USER_ID | grant USER_ID --credits N [--expires-at ISO] [--reason TEXT]   [--project ID] [--json]
  credly transactions [--user ID] [--model M] [--feature F] [--status S] [--from ISO] [--to ISO]
                 [--json|--csv] [--project ID]
  credly usage   [--from ISO] [--to ISO] [--group-by day,model,...] [--interval hour|day]
                 [--user ID] [--model M] [--feature F] [--json|--csv] [--project ID]
  credly models  [--search TEXT] [--provider ID] [--json] [--config FILE] [--project ID]
  credly models  --freeze [MODEL...] [--provider ID] [--config FILE] [--project ID]
  credly verify  [--database PATH|URL] [--project ID]
  credly migrate [--database PATH|URL]

The database is a SQLite file (default ./credly.db, created if missing), or a postgres:// URL;
--database wins over DATABASE_URL. --project may be left out while the database has one project.

serve   runs the HTTP API (default 127.0.0.1:8787) with JSON logs on stdout. With --config, the
        file's models and tiers replace the project's (a new database gets a project, and its
        keys are printed once); without it, the database must exist and hold a project.
        SIGTERM or SIGINT finishes requests in flight, then exits. Limits (docs/security.md):
          --rate-limit N          requests per minute per API key (default 0: none)
          --failed-auth-limit N   failed authentications per minute per address (default 30; 0: none)
          --max-connections N     open connections (default 1024)
          --headers-timeout S     seconds to send a request's headers (default 10)
          --request-timeout S     seconds to send a whole request (default 30)
          --keep-alive-timeout S  seconds an idle connection stays open (default 5)
        --key-cache S     seconds an API key read is trusted; a key revoked by another process
                          is refused within it (default 10; 0: read the key on every request)
        On PostgreSQL (docs/postgres.md):
          --pg-pool N                 connections per instance (default 10)
          --pg-write-transactions N   write transactions at once; fewer carry more writes each
                                      (default 2, at most --pg-pool)
init    creates a project from a config file and prints its admin and metering keys, once. A
        database that has a project already is refused; --new-project adds another on purpose.
keys    creates, lists or revokes the project's API keys (secrets are shown only on create).
users   lists users, shows one, or grants credits (a top-up).
Lists print a table; --json prints JSON instead.
transactions  lists the newest transactions (a table); --csv and --json export every one
        that matches the filters.
usage   adds up calls, credits, tokens and refusals over a time range (default: the last 30
        days), grouped by day, hour, model, feature, user or tier.
models  lists every model the project accepts, its price in credits per million tokens and where
        it comes from (the config's "models", or the price catalog when "pricing.catalog" is on).
        --freeze copies catalog prices into "models", so they stay when the catalog changes: the
        models named, or every catalog-priced model the project has metered; into the --config
        file when given, else the stored project.
verify  recomputes every balance from the journal; exits 1 if anything differs.
migrate applies missing schema migrations (serve and every command also do so on start;
        instances starting together are safe).
`

/**
 * Runs the CLI with `argv` (without `node` and the script). Resolves to the exit code; `serve`
 * resolves only when the server has shut down.
 */
export async function runCli(
  argv: string[],
  output: Output = defaultOutput,
  signals: NodeJS.EventEmitter = process,
): Promise<number> {
  const [command, ...rest] = argv
  try {
    switch (command) {
      case undefined:
        output.err(HELP)
        return 2
      case '-h':
      case '--help':
      case 'help':
        output.out(HELP)
        return 0
      case '-v':
      case '--version':
        output.out(`${VERSION}\n`)
        return 0
      case 'serve':
        return await serveCommand(rest, output, signals)
      case 'models':
        return await modelsCommand(rest, output)
      case 'init':
        return await initCommand(rest, output)
      case 'keys':
        return await keysCommand(rest, output)
      case 'users':
        return await usersCommand(rest, output)
      case 'usage':
        return await usageCommand(rest, output)
      case 'transactions':
        return await transactionsCommand(rest, output)
      case 'verify':
        return await verifyCommand(rest, output)
      case 'migrate':
        return await migrateCommand(rest, output)
      default:
        throw new UsageError(
          `unknown command "${command}". Run \`credly --help\` for the commands.`,
        )
    }
  } catch (error) {
    if (error instanceof UsageError) {
      output.err(`credly: ${error.message}\n`)
      return 2
    }
    output.err(`credly: ${describeError(error)}\n`)
    return 1
  }
}

const defaultOutput: Output = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
}
