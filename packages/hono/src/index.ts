export type { RequestCredly } from 'credly'
export { type CredlyHonoOptions, type CredlyVariables, credly } from './middleware.ts'
