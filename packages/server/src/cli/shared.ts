import { existsSync, readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { createLedger, createStore, type Ledger, type Store } from '@credly/ledger'
import {
  CredlyError,
  type ProjectConfig,
  projectConfigSchema,
  toFieldErrors,
} from 'credly/internal'

/* What every credly command shares: options, the ledger and its project, output formats. */

/** Thrown for a mistake of the caller's: printed without a stack, exit code 2. */
export class UsageError extends Error {}

export type Output = { out: (text: string) => void; err: (text: string) => void }

export const databaseOption = { database: { type: 'string' } } as const
export const projectOption = { project: { type: 'string' } } as const

export function parse<const O extends Record<string, { type: 'string' | 'boolean' }>>(
  args: string[],
  options: O,
) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true })
  } catch (error) {
    throw new UsageError(`${(error as Error).message}. Run \`credly --help\` for the options.`)
  }
}

/** The database --database names, else DATABASE_URL, else ./credly.db. */
export function databaseName(database: string | undefined): string {
  return database ?? (process.env.DATABASE_URL || './credly.db')
}

/** True for a SQLite path with no file behind it (opening it would create an empty ledger). */
export function isMissingFile(database: string): boolean {
  return database !== ':memory:' && !isPostgresUrl(database) && !existsSync(database)
}

/** A `postgres://` (or `postgresql://`) URL rather than a SQLite file. */
export function isPostgresUrl(database: string): boolean {
  return /^postgres(ql)?:\/\//i.test(database)
}

/** A whole-number option, at least `min`, or its default. */
export function wholeNumber(
  values: Record<string, unknown>,
  name: string,
  fallback: number,
  min = 0,
): number {
  const text = values[name]
  if (text === undefined) return fallback
  const value = Number(text)
  if (!Number.isSafeInteger(value) || value < min)
    throw new UsageError(
      `--${name} must be a whole number${min > 0 ? ` of at least ${min}` : ''}, not "${text}".`,
    )
  return value
}

/** An option in seconds (more than zero), as milliseconds, or its default. */
export function seconds(values: Record<string, unknown>, name: string, fallbackMs: number): number {
  const text = values[name]
  if (text === undefined) return fallbackMs
  const value = Number(text)
  if (!Number.isFinite(value) || value <= 0 || value > 3600)
    throw new UsageError(`--${name} must be a number of seconds from 0 to 3600, not "${text}".`)
  return Math.round(value * 1000)
}

export function openLedger(
  database: string | undefined,
  options: {
    store?: Parameters<typeof createStore>[1]
    ledger?: Omit<Parameters<typeof createLedger>[0], 'store'>
  } = {},
): {
  ledger: Ledger
  store: Store
  database: string
} {
  const name = databaseName(database)
  let store: Store
  try {
    store = createStore(name, options.store)
  } catch (error) {
    throw new CredlyError(`cannot open the database "${name}": ${(error as Error).message}`, {
      cause: error,
    })
  }
  return { ledger: createLedger({ ...options.ledger, store }), store, database: name }
}

/** Reads and validates a config file, naming each bad field. */
export function readConfig(path: string): ProjectConfig {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    throw new UsageError(`cannot read the config file "${path}": ${(error as Error).message}`)
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    throw new UsageError(`the config file "${path}" is not valid JSON: ${(error as Error).message}`)
  }
  const result = projectConfigSchema.safeParse(json)
  if (!result.success) {
    const fields = toFieldErrors(result.error)
      .map((field) => `  ${field.path || '(top level)'}: ${field.message}`)
      .join('\n')
    throw new UsageError(
      `the config file "${path}" is invalid:\n${fields}\nIt needs "tiers" (e.g. {"free": {"credits": 100}}) and "models" (credits per million tokens, e.g. {"gpt-4o": {"input": 2.5, "output": 10}}) or the price catalog ("pricing": {"catalog": true, "credits_per_usd": 1000}).`,
    )
  }
  return result.data
}

/** Runs `work` on the ledger and the project the options name (or its only one), then closes it. */
export async function withProject<T>(
  values: { database?: string; project?: string },
  work: (ledger: Ledger, projectId: string) => Promise<T>,
): Promise<T> {
  const { ledger, store } = openLedger(values.database)
  try {
    return await work(ledger, await resolveProject(ledger, values.project))
  } finally {
    await store.close()
  }
}

/** The project named by --project, or the only one in the database. */
export async function resolveProject(ledger: Ledger, project: string | undefined): Promise<string> {
  if (project !== undefined) {
    await ledger.getProject(project)
    return project
  }
  const projects = await ledger.listProjects()
  if (projects.length === 1) return (projects[0] as { id: string }).id
  if (projects.length === 0)
    throw new UsageError(
      'the database has no project yet. Create one with `credly init --config FILE`.',
    )
  throw new UsageError(
    `the database has ${projects.length} projects; name one with --project (${projects.map((p) => p.id).join(', ')}).`,
  )
}

/** Rows as CSV (RFC 4180: fields with a comma, quote or line break are quoted). */
export function csv(rows: string[][]): string {
  const field = (value: string) =>
    /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value
  return `${rows.map((row) => row.map(field).join(',')).join('\r\n')}\r\n`
}

/** Rows as a table with aligned columns, for a terminal. */
export function table(headings: string[], rows: string[][]): string {
  if (rows.length === 0) return '(none)\n'
  const widths = headings.map((heading, column) =>
    Math.max(heading.length, ...rows.map((row) => (row[column] ?? '').length)),
  )
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd()
  return `${[line(headings), ...rows.map(line)].join('\n')}\n`
}

/** An error as one line for the terminal; a ValidationError's message already names its fields. */
export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/** A database URL without its password, for logs. */
export function redact(database: string): string {
  return database.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@')
}
