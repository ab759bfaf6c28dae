import { defineProject } from 'vitest/config'

export default defineProject({
  resolve: { conditions: ['@credly/source'] },
  ssr: { resolve: { conditions: ['@credly/source'] } },
  test: {
    name: 'credly',
    include: ['src/**/*.test.ts'],
  },
})
