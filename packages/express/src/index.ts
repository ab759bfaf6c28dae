import './augment.ts'

export type { RequestCredly } from 'credly'
export { getCredly } from './get-credly.ts'
export { type CredlyExpressOptions, credly, credlyErrorHandler } from './middleware.ts'
