export type { RequestCredly } from 'credly'
export {
  type RouteContext,
  type WithCreditsContext,
  type WithCreditsOptions,
  withCredits,
} from './with-credits.ts'
