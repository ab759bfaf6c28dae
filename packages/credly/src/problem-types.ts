/**
 * Where problem `type` URLs point: `docs/problems.md`, one heading per slug.
 * Placeholder home until the project is published; the slugs are the stable part.
 */
export const PROBLEMS_DOCS_URL = 'https://github.com/credly-dev/credly/blob/main/docs/problems.md'

/**
 * Every kind of problem Credly answers with, its status and title; each is a heading in
 * docs/problems.md. The server and the adapters build their problem bodies from this one table.
 */
export const problemKinds = {
  'validation-error': { status: 400, title: 'Invalid request' },
  unauthorized: { status: 401, title: 'Unauthorized' },
  forbidden: { status: 403, title: 'Forbidden' },
  'not-found': { status: 404, title: 'Not Found' },
  'user-not-found': { status: 404, title: 'Not Found' },
  'transaction-not-found': { status: 404, title: 'Not Found' },
  'unknown-model': { status: 400, title: 'Unknown model' },
  'unknown-tier': { status: 400, title: 'Unknown tier' },
  'out-of-range': { status: 400, title: 'Out of range' },
  'user-exists': { status: 409, title: 'Conflict' },
  'idempotency-conflict': { status: 409, title: 'Conflict' },
  'transaction-conflict': { status: 409, title: 'Conflict' },
  'insufficient-credits': { status: 402, title: 'Insufficient credits' },
  'rate-limited': { status: 429, title: 'Too Many Requests' },
  'payload-too-large': { status: 413, title: 'Content Too Large' },
  'invalid-signature': { status: 400, title: 'Invalid signature' },
  'internal-error': { status: 500, title: 'Internal Server Error' },
} as const satisfies Record<string, { status: number; title: string }>
export type ProblemSlug = keyof typeof problemKinds

/** Every problem kind's slug. */
export const problemSlugs = Object.keys(problemKinds) as ProblemSlug[]

/** An RFC 9457 problem body, as every Credly error response carries. */
export type ProblemBody = {
  type: string
  title: string
  status: number
  detail: string
  instance?: string
  [extension: string]: unknown
}

/** The body of a problem of a kind, with a detail that says what was wrong and how to fix it. */
export function problemBody(
  slug: ProblemSlug,
  detail: string,
  extensions: Record<string, unknown> = {},
): ProblemBody {
  const { status, title } = problemKinds[slug]
  return { type: problemType(slug), title, status, detail, ...extensions }
}

/** The `type` URL of a problem kind, e.g. `.../docs/problems.md#insufficient-credits`. */
export function problemType(slug: ProblemSlug): string {
  return `${PROBLEMS_DOCS_URL}#${slug}`
}

/** The slug of a problem `type` URL, or undefined for a type Credly did not make. */
export function problemSlug(type: string | undefined): ProblemSlug | undefined {
  if (!type?.startsWith(`${PROBLEMS_DOCS_URL}#`)) return undefined
  const slug = type.slice(PROBLEMS_DOCS_URL.length + 1)
  return (problemSlugs as readonly string[]).includes(slug) ? (slug as ProblemSlug) : undefined
}
