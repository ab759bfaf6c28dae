import { sourceProject } from '../../vitest.project.ts'

export default sourceProject('clients', ['*.test.ts'])
