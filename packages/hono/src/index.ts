export type { RequestCredly } from 'credly'
export {
  type CredlyEnv,
  type CredlyHonoOptions,
  type CredlyVariables,
  credly,
} from './middleware.ts'
