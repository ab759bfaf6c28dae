import { sourceProject } from '../../vitest.project.ts'

export default sourceProject('credly', ['src/**/*.test.ts'])
