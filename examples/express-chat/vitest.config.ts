import { sourceProject } from '../../vitest.project.ts'

export default sourceProject('example-express-chat', ['test/**/*.test.ts'])
