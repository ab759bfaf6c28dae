import { createLedger, createSqliteStore, type Ledger } from '@credly/ledger'
import { createTestClock, type TestClock, testConfig } from '@credly/ledger/testing'
import {
  type ClientOptions,
  type CredlyClient,
  createClient,
  type ProjectConfigInput,
} from 'credly'
import { type AppOptions, createApp } from '../app.ts'
import { createProjectWithKeys } from '../project-with-keys.ts'
import { type ConnectionLimits, startServer } from '../serve.ts'

/** A real Credly server on 127.0.0.1 with a fresh in-memory ledger and one project. */
export type TestServer = {
  url: string
  ledger: Ledger
  clock: TestClock
  projectId: string
  adminKey: string
  meteringKey: string
  /** A client for the project, with the admin key unless another is given. */
  client(options?: Partial<ClientOptions>): CredlyClient
  close(): Promise<void>
}

/**
 * Starts `@credly/server` over HTTP on a free port of 127.0.0.1, for end-to-end tests of the
 * client, adapters and middleware against the real thing. The ledger's clock is a test clock.
 */
export async function createTestServer(
  options: {
    config?: ProjectConfigInput
    app?: Omit<AppOptions, 'ledger'>
    start?: string
    limits?: ConnectionLimits
  } = {},
): Promise<TestServer> {
  const clock = createTestClock(options.start ?? Date.now())
  const store = createSqliteStore({ path: ':memory:' })
  const ledger = createLedger({ store, clock })
  const project = await createProjectWithKeys(ledger, options.config ?? testConfig)
  const server = await startServer(createApp({ ledger, ...options.app }), {
    port: 0,
    limits: options.limits,
  })
  return {
    url: server.url,
    ledger,
    clock,
    projectId: project.project_id,
    adminKey: project.admin_key,
    meteringKey: project.metering_key,
    client: (clientOptions = {}) =>
      createClient({
        apiKey: project.admin_key,
        projectId: project.project_id,
        baseUrl: server.url,
        ...clientOptions,
      }),
    close: async () => {
      await server.close({ timeoutMs: 1000 })
      await store.close()
    },
  }
}

export { type Fault, FaultProxy, type SeenRequest } from './fault-proxy.ts'
export { testConfig }
