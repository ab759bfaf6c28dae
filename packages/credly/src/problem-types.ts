/**
 * Where problem `type` URLs point: `docs/problems.md`, one heading per slug.
 * Placeholder home until the project is published; the slugs are the stable part.
 */
export const PROBLEMS_DOCS_URL = 'https://github.com/credly-dev/credly/blob/main/docs/problems.md'

/** Every kind of problem a Credly server answers with; each is a heading in docs/problems.md. */
export const problemSlugs = [
  'validation-error',
  'unauthorized',
  'forbidden',
  'not-found',
  'user-not-found',
  'transaction-not-found',
  'unknown-model',
  'unknown-tier',
  'user-exists',
  'idempotency-conflict',
  'transaction-conflict',
  'insufficient-credits',
  'rate-limited',
  'payload-too-large',
  'internal-error',
] as const
export type ProblemSlug = (typeof problemSlugs)[number]

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
