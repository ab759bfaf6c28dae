export { type GateOptions, type GateOutcome, gateRequest, runWithRequestCredly } from './gate.ts'
export {
  insufficientCreditsResponse,
  missingUserResponse,
  type ProblemResponse,
  problemForError,
  rateLimitedResponse,
} from './problem-response.ts'
export { balanceCreatingUser, createRequestCredly, type RequestCredly } from './request-credly.ts'
export { clientResolver } from './resolve-client.ts'
