import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLocalClient } from '@credly/ledger'
import { createTestServer } from '@credly/server/testing'
import { clientContractSuite, contractConfig } from './client-contract.ts'

/** The same contract for the two clients: HTTP against the real server, and embedded. */
clientContractSuite('createClient against @credly/server over HTTP', async () => {
  const server = await createTestServer({ config: contractConfig })
  return {
    client: server.client(),
    verify: () => server.ledger.verify(server.projectId),
    close: () => server.close(),
  }
})

clientContractSuite('createLocalClient on a SQLite file', async () => {
  const folder = mkdtempSync(join(tmpdir(), 'credly-contract-'))
  const client = createLocalClient({ database: join(folder, 'credly.db'), config: contractConfig })
  return {
    client,
    verify: () => client.verify(),
    close: async () => {
      await client.close()
      rmSync(folder, { recursive: true, force: true })
    },
  }
})
