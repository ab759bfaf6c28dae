import { createTestServer, FaultProxy, type TestServer } from '@credly/server/testing'

/** The project the client tests meter into: the prices and tiers their numbers assume. */
export const clientTestConfig = {
  models: {
    // Credits per million tokens.
    'gpt-4o': { input: 2.5, output: 10 },
    // One credit per token, for refusals with round numbers.
    'tiny-model': { input: 1_000_000, output: 1_000_000 },
  },
  tiers: { free: { credits: 100 }, pro: { credits: 5000 } },
}

/** A real `@credly/server` on 127.0.0.1 behind a fault proxy the test can script. */
export type RealServer = {
  credly: TestServer
  proxy: FaultProxy
  /** The proxy's URL: what the client under test talks to. */
  baseUrl: string
  apiKey: string
  projectId: string
  close(): Promise<void>
}

export async function startRealServer(): Promise<RealServer> {
  const credly = await createTestServer({ config: clientTestConfig })
  const proxy = new FaultProxy(credly.url)
  const baseUrl = await proxy.listen()
  return {
    credly,
    proxy,
    baseUrl,
    apiKey: credly.adminKey,
    projectId: credly.projectId,
    close: async () => {
      await proxy.close()
      await credly.close()
    },
  }
}
