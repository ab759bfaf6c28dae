import { defineProject } from 'vitest/config'

/**
 * A test project of the workspace, resolving Credly's packages to their TypeScript sources (the
 * `@credly/source` export condition), so tests run without a build.
 */
export function sourceProject(
  name: string,
  include: string[] = ['src/**/*.test.ts', 'test/**/*.test.ts'],
) {
  return defineProject({
    resolve: { conditions: ['@credly/source'] },
    ssr: { resolve: { conditions: ['@credly/source'] } },
    test: { name, include },
  })
}
