import './augment.ts'

export type { RequestCredly } from 'credly'
export { fetchHandler } from './fetch-handler.ts'
export { getCredly } from './get-credly.ts'
export { type CredlyExpressOptions, credly, credlyErrorHandler } from './middleware.ts'
