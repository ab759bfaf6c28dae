import { CredlyApiError, parseOrThrow, projectConfigSchema } from 'credly/internal'
import { newId } from '../ids.ts'
import type { ProjectRow } from '../stores/store.ts'
import { preloadCatalog } from './catalog.ts'
import type { Ledger } from './ledger.ts'
import { toProject, type Units } from './units.ts'
import { verifyProject } from './verify.ts'

/** Projects: their configs, the list of them, and verify(). */
export function projectOperations(
  units: Units,
): Pick<
  Ledger,
  'createProject' | 'getProject' | 'updateProjectConfig' | 'listProjects' | 'verify'
> {
  const { store, clock, loadProject } = units
  /** A project as the API shows it; whoever asks for one is about to use it: its catalog loads. */
  const shown = (row: ProjectRow) => {
    preloadCatalog(row.config.pricing)
    return toProject(row)
  }
  return {
    async createProject(input) {
      const config = parseOrThrow(projectConfigSchema, input.config, 'project config')
      const row: ProjectRow = { id: input.id ?? newId('project'), config, created_at: clock.now() }
      await store.write((tx) => tx.insertProject(row))
      return shown(row)
    },

    async getProject(projectId) {
      return shown(await store.read((tx) => loadProject(tx, projectId)))
    },

    async updateProjectConfig(projectId, input) {
      const config = parseOrThrow(projectConfigSchema, input, 'project config')
      return store.write(async (tx) => {
        const project = await loadProject(tx, projectId)
        await tx.updateProjectConfig(projectId, config)
        return shown({ ...project, config })
      })
    },

    async listProjects() {
      return (await store.read((tx) => tx.listProjects())).map(shown)
    },

    async verify(projectId) {
      if (typeof projectId !== 'string') {
        throw CredlyApiError.fromKind(
          'validation-error',
          'ledger.verify(projectId) takes the project id. On a local client, credly.verify() checks its own project.',
          { errors: [{ path: 'projectId', message: 'must be a string' }] },
        )
      }
      return store.read(async (tx) => {
        await loadProject(tx, projectId)
        return verifyProject(tx, projectId)
      })
    },
  }
}
