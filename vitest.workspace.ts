/**
 * Every package's, example's and cross-package test project (tests/: what users get). `vitest.config.ts` reads this list, so one
 * `vitest run` at the root runs them all (vitest 5 has no workspace file of its own).
 */
export const workspaceProjects = [
  'packages/*/vitest.config.ts',
  'examples/*/vitest.config.ts',
  'tests/*/vitest.config.ts',
]
