import { sourceProject } from '../../vitest.project.ts'

export default sourceProject('example-stripe-credits', ['test/**/*.test.ts'])
