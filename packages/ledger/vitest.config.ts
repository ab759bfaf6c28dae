import { sourceProject } from '../../vitest.project.ts'

export default sourceProject('ledger')
