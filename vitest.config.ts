import { defineConfig } from 'vitest/config'
import { workspaceProjects } from './vitest.workspace.ts'

export default defineConfig({
  test: {
    projects: workspaceProjects,
    // The JSON report lets .ci/run print the whole run's counts.
    reporters: ['default', 'json'],
    outputFile: { json: '.test-results/vitest.json' },
  },
})
