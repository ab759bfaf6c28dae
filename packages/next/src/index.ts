export type { RequestCredly } from 'credly'
export { type WithCreditsContext, type WithCreditsOptions, withCredits } from './with-credits.ts'
