import { spawn } from 'node:child_process'
import { afterEach, describe, expect, it } from 'vitest'
import { createLedger, createPostgresStore, type Store } from '../src/index.ts'
import { testConfig } from '../src/testing/index.ts'
import {
  dropSchema,
  newSchemaName,
  postgresAvailable,
  postgresUrl,
} from '../src/testing/postgres.ts'

const worker = new URL('./fixtures/pg-race-worker.ts', import.meta.url).pathname
const available = await postgresAvailable()

function startWorker(
  schema: string,
  projectId: string,
  name: string,
  count: number,
  onLine?: (line: string) => void,
  pauseMs = 0,
) {
  const child = spawn(process.execPath, [
    '--conditions=@credly/source',
    worker,
    postgresUrl,
    schema,
    projectId,
    'hot',
    name,
    String(count),
    String(pauseMs),
  ])
  const lines: string[] = []
  let buffer = ''
  let stderr = ''
  child.stdout.on('data', (chunk) => {
    buffer += chunk
    const parts = buffer.split('\n')
    buffer = parts.pop() ?? ''
    for (const line of parts) {
      lines.push(line)
      onLine?.(line)
    }
  })
  child.stderr.on('data', (chunk) => {
    stderr += chunk
  })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  )
  return { child, lines, exited, stderr: () => stderr }
}

describe.runIf(available)('PostgreSQL across processes', () => {
  let schema: string | undefined
  let store: Store | undefined
  afterEach(async () => {
    await store?.close()
    if (schema) await dropSchema(schema)
  })

  it('4 instances race one user, one is killed mid-run and restarted: no overspend, no double charge', async () => {
    schema = newSchemaName()
    store = createPostgresStore({ url: postgresUrl, schema })
    const ledger = createLedger({ store })
    const project = await ledger.createProject({ config: testConfig })
    const k = 40
    await ledger.createUser(project.id, { user_id: 'hot', tier_id: 'empty' })
    await ledger.grantCredits(project.id, { user_id: 'hot', credits: k * 3 })

    let killed = false
    let reserved: () => void = () => undefined
    const victimReserved = new Promise<void>((resolve) => {
      reserved = resolve
    })
    // The victim pauses after each complete, so the kill lands mid-run, not after its last
    // step; the others start once it holds a reservation, so it always has one to complete.
    const victim = startWorker(
      schema,
      project.id,
      'w0',
      32,
      (line) => {
        if (line.startsWith('started') && !line.endsWith('refused')) reserved()
        if (!killed && line.startsWith('completed')) {
          killed = true
          victim.child.kill('SIGKILL')
        }
      },
      200,
    )
    await victimReserved
    const others = [1, 2, 3].map((index) =>
      startWorker(schema as string, project.id, `w${index}`, 32),
    )
    expect((await victim.exited).signal).toBe('SIGKILL')
    for (const other of others) expect((await other.exited).code, other.stderr()).toBe(0)

    // The killed instance comes back and replays its keys: what it had reserved is not reserved again.
    const restarted = startWorker(schema, project.id, 'w0', 32)
    expect((await restarted.exited).code, restarted.stderr()).toBe(0)
    const replayedIds = restarted.lines.filter(
      (line) => line.startsWith('started') && !line.endsWith('refused'),
    )
    for (const line of victim.lines.filter(
      (entry) => entry.startsWith('started') && !entry.endsWith('refused'),
    )) {
      expect(replayedIds).toContain(line)
    }

    const transactions = await store.read((tx) => tx.listAllTransactions(project.id))
    expect(transactions).toHaveLength(k)
    expect(
      transactions.every(
        (transaction) => transaction.status === 'completed' && transaction.used === 3_000_000,
      ),
    ).toBe(true)
    expect(await ledger.getBalance(project.id, 'hot')).toEqual({
      user_id: 'hot',
      balance: 0,
      held: 0,
    })
    const report = await ledger.verify(project.id)
    expect(report.differences).toEqual([])
    expect(report.totals).toEqual({
      granted: k * 3,
      available: 0,
      held: 0,
      spent: k * 3,
      expired: 0,
    })
  }, 120_000)

  it('two instances starting on an empty database at once both migrate it safely', async () => {
    schema = newSchemaName()
    const first = createPostgresStore({ url: postgresUrl, schema })
    const second = createPostgresStore({ url: postgresUrl, schema })
    const [a, b] = await Promise.all([
      createLedger({ store: first }).createProject({ config: testConfig }),
      createLedger({ store: second }).createProject({ config: testConfig }),
    ])
    expect(a.id).not.toBe(b.id)
    store = first
    expect(
      (await createLedger({ store: first }).listProjects()).map((project) => project.id).sort(),
    ).toEqual([a.id, b.id].sort())
    await second.close()
  }, 60_000)

  it('refuses to change or delete journal entries', async () => {
    schema = newSchemaName()
    store = createPostgresStore({ url: postgresUrl, schema })
    const ledger = createLedger({ store })
    const project = await ledger.createProject({ config: testConfig })
    await ledger.createUser(project.id, { user_id: 'ann' })
    const pg = (await import('pg')).default
    const client = new pg.Client({ connectionString: postgresUrl })
    await client.connect()
    try {
      await expect(
        client.query(`UPDATE ${schema}.journal SET amount = amount + 1`),
      ).rejects.toThrow(/append-only/)
      await expect(client.query(`DELETE FROM ${schema}.journal`)).rejects.toThrow(/append-only/)
    } finally {
      await client.end()
    }
  })
})
