export * from './public-api.ts'
export { MAX_CREDITS } from './schemas/common.ts'
// Every wire type; the zod schemas themselves are internal (credly/internal).
export type * from './schemas/index.ts'
