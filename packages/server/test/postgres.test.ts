import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { promisify } from 'node:util'
import { createLedger, createPostgresStore, type Store } from '@credly/ledger'
import { testConfig } from '@credly/ledger/testing'
import { createClient } from 'credly'
import pg from 'pg'
import { afterEach, describe, expect, it } from 'vitest'
import { createApp, type RunningServer, startServer } from '../src/index.ts'
import { startCredlyServe } from './credly-serve.ts'

const url = process.env.CREDLY_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const cli = new URL('../src/cli/run.ts', import.meta.url).pathname

async function reachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 })
  try {
    await client.connect()
    return true
  } catch (error) {
    if (process.env.CI)
      throw new Error(
        `CI must run the PostgreSQL server tests; ${url} does not answer: ${(error as Error).message}`,
      )
    console.warn(
      `SKIPPING the PostgreSQL server tests: ${url} does not answer. CI never skips them.`,
    )
    return false
  } finally {
    await client.end().catch(() => undefined)
  }
}

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    await client.query(sql)
  } finally {
    await client.end()
  }
}

describe.runIf(await reachable())('two Credly servers on one PostgreSQL', () => {
  const cleanups: Array<() => Promise<void>> = []
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })

  it('share one ledger: 64 starts split across both for one user, exactly k continue', async () => {
    const schema = `credly_test_${randomBytes(6).toString('hex')}`
    cleanups.push(() => admin(`DROP SCHEMA IF EXISTS ${schema} CASCADE`))
    const servers: RunningServer[] = []
    const stores: Store[] = []
    for (let index = 0; index < 2; index++) {
      const store = createPostgresStore({ url, schema, maxConnections: 4 })
      stores.push(store)
      servers.push(await startServer(createApp({ ledger: createLedger({ store }) }), { port: 0 }))
    }
    cleanups.push(async () => {
      for (const server of servers) await server.close()
      for (const store of stores) await store.close()
    })
    const ledger = createLedger({ store: stores[0] as Store })
    const project = await ledger.createProject({ config: testConfig })
    const key = await ledger.createApiKey(project.id, { scope: 'admin' })
    const clients = servers.map((server) =>
      createClient({ apiKey: key.key, projectId: project.id, baseUrl: server.url }),
    )
    const k = 19
    await clients[0]?.createUser({ user_id: 'hot', tier_id: 'empty' })
    await clients[1]?.grantCredits({ user_id: 'hot', credits: k * 3 })

    const starts = await Promise.all(
      Array.from({ length: 64 }, (_, index) =>
        clients[index % 2]?.startUsageTransaction({
          user_id: 'hot',
          model: 'unit',
          provisional_tokens: { output_tokens: 3 },
        }),
      ),
    )
    expect(starts.filter((start) => start?.continue)).toHaveLength(k)
    // Each server sees the other's writes at once: balances are current on the next read.
    expect(await clients[1]?.getBalance('hot')).toEqual({ user_id: 'hot', balance: 0, held: k * 3 })
    const report = await ledger.verify(project.id)
    expect(report.ok).toBe(true)
  }, 60_000)

  it('the CLI migrates, initialises and verifies a PostgreSQL database named by DATABASE_URL', async () => {
    const database = `credly_cli_${randomBytes(6).toString('hex')}`
    await admin(`CREATE DATABASE ${database}`)
    cleanups.push(() => admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`))
    const databaseUrl = url.replace(/\/[^/]*$/, `/${database}`)
    const run = (...args: string[]) =>
      promisify(execFile)(process.execPath, ['--conditions=@credly/source', cli, ...args], {
        env: { ...process.env, DATABASE_URL: databaseUrl },
        timeout: 30_000,
      })
    const [first, second] = await Promise.all([run('migrate'), run('migrate')])
    expect(first.stdout).toContain('schema is current (postgres)')
    expect(second.stdout).toContain('schema is current (postgres)')
    const created = JSON.parse(
      (
        await run(
          'init',
          '--config',
          new URL('../../../examples/credly.json', import.meta.url).pathname,
          '--json',
        )
      ).stdout,
    )
    expect(created.project_id).toMatch(/^prj_/)
    expect((await run('verify')).stdout).toContain(`${created.project_id}: ok`)
  }, 60_000)

  it('credly serve --pg-pool bounds the connections an instance opens, under concurrent calls', async () => {
    const database = `credly_pool_${randomBytes(6).toString('hex')}`
    await admin(`CREATE DATABASE ${database}`)
    cleanups.push(() => admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`))
    const databaseUrl = url.replace(/\/[^/]*$/, `/${database}`)
    const config = new URL('../../../examples/credly.json', import.meta.url).pathname
    const server = await startCredlyServe([
      '--database',
      databaseUrl,
      '--config',
      config,
      '--port',
      '0',
      '--pg-pool',
      '3',
    ])
    cleanups.push(async () => {
      server.child.kill('SIGTERM')
      await server.exited
    })
    const created = server
      .logs()
      .find((line) => line.msg === 'project created; these keys are shown once')
    const client = createClient({
      apiKey: created?.admin_key as string,
      projectId: created?.project_id as string,
      baseUrl: server.url,
    })
    const users = Array.from({ length: 16 }, (_, index) => `user-${index}`)
    await Promise.all(users.map((user) => client.createUser({ user_id: user })))
    const starts = await Promise.all(
      users.flatMap((user) =>
        [1, 2].map(() =>
          client.startUsageTransaction({
            user_id: user,
            model: 'gpt-4o-mini',
            provisional_tokens: { output_tokens: 100 },
          }),
        ),
      ),
    )
    expect(starts.every((start) => start.continue)).toBe(true)
    const counter = new pg.Client({ connectionString: url })
    await counter.connect()
    const { rows } = await counter.query(
      'SELECT count(*)::int AS connections FROM pg_stat_activity WHERE datname = $1',
      [database],
    )
    await counter.end()
    expect(rows[0].connections).toBeGreaterThan(0)
    expect(rows[0].connections).toBeLessThanOrEqual(3)
  }, 60_000)
})
