import { sourceProject } from '../../vitest.project.ts'

export default sourceProject('example-agent', ['test/**/*.test.ts'])
