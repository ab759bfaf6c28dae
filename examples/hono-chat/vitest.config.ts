import { sourceProject } from '../../vitest.project.ts'

export default sourceProject('example-hono-chat', ['test/**/*.test.ts'])
