export {
  assertFailsWithoutClient,
  assertInsufficientCredits,
  assertMissingUser,
  assertRateLimited,
  type SeenResponse,
} from './adapter-expectations.ts'
export { abortStreamAfter, waitUntil } from './stream-abort.ts'
