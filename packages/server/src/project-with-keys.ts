import type { Ledger } from '@credly/ledger'
import type { ProjectConfigInput } from 'credly'

/** A new project and its two keys, each shown this once. */
export type ProjectWithKeys = { project_id: string; admin_key: string; metering_key: string }

/** Creates a project with an admin and a metering key: what `credly init` does. */
export async function createProjectWithKeys(
  ledger: Ledger,
  config: ProjectConfigInput,
): Promise<ProjectWithKeys> {
  const project = await ledger.createProject({ config })
  const admin = await ledger.createApiKey(project.id, {
    scope: 'admin',
    name: 'admin (credly init)',
  })
  const metering = await ledger.createApiKey(project.id, {
    scope: 'metering',
    name: 'metering (credly init)',
  })
  return { project_id: project.id, admin_key: admin.key, metering_key: metering.key }
}
