import { createLedger, createSqliteStore, type Ledger } from '@credly/ledger'
import { createTestClock, type TestClock, testConfig } from '@credly/ledger/testing'
import type { ProjectConfigInput } from 'credly'
import type { Hono } from 'hono'
import { type AppOptions, createApp } from '../app.ts'
import type { AppEnv } from '../app-env.ts'
import { createProjectWithKeys } from '../project-with-keys.ts'

/** A project of the harness with its two keys. */
export type HarnessProject = { id: string; adminKey: string; meteringKey: string }

/** The app on an in-memory ledger, called through `app.request` (no socket). */
export type AppHarness = {
  app: Hono<AppEnv>
  ledger: Ledger
  clock: TestClock
  project: HarnessProject
  /** Another project, to prove isolation. */
  other: HarnessProject
  /** Calls the app with a key (the first project's admin key by default) and a JSON body. */
  call(
    method: string,
    path: string,
    options?: {
      key?: string | null
      body?: unknown
      rawBody?: string
      headers?: Record<string, string>
    },
    // biome-ignore lint/suspicious/noExplicitAny: tests read whatever JSON the route answered.
  ): Promise<{ status: number; headers: Headers; body: any }>
  close(): Promise<void>
}

export async function openAppHarness(
  options: { config?: ProjectConfigInput; app?: Omit<AppOptions, 'ledger'> } = {},
): Promise<AppHarness> {
  const store = createSqliteStore({ path: ':memory:' })
  const clock = createTestClock('2026-01-31T12:00:00.000Z')
  const ledger = createLedger({ store, clock })
  const makeProject = async (): Promise<HarnessProject> => {
    const created = await createProjectWithKeys(ledger, options.config ?? testConfig)
    return {
      id: created.project_id,
      adminKey: created.admin_key,
      meteringKey: created.metering_key,
    }
  }
  const project = await makeProject()
  const other = await makeProject()
  const app = createApp({ ledger, rateLimit: false, ...options.app })
  return {
    app,
    ledger,
    clock,
    project,
    other,
    async call(method, path, callOptions = {}) {
      const key = callOptions.key === undefined ? project.adminKey : callOptions.key
      const headers: Record<string, string> = { ...callOptions.headers }
      if (key !== null) headers.authorization = `Bearer ${key}`
      let body: string | undefined = callOptions.rawBody
      if (callOptions.body !== undefined) {
        body = JSON.stringify(callOptions.body)
        headers['content-type'] = 'application/json'
      }
      const response = await app.request(path, { method, headers, body })
      const text = await response.text()
      let parsed: unknown = text
      try {
        parsed = JSON.parse(text)
      } catch {
        // Not JSON (metrics): keep the text.
      }
      return { status: response.status, headers: response.headers, body: parsed }
    },
    close: () => store.close(),
  }
}
