export {
  assertInsufficientCredits,
  assertMissingUser,
  assertRateLimited,
  type SeenResponse,
} from './adapter-expectations.ts'
export {
  API_KEY,
  ContractServer,
  type Fault,
  PRICES,
  PROJECT_ID,
  type RecordedRequest,
} from './contract-server.ts'
export { abortStreamAfter, waitUntil } from './stream-abort.ts'
