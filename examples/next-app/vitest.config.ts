import { sourceProject } from '../../vitest.project.ts'

export default sourceProject('example-next-app', ['test/**/*.test.ts'])
