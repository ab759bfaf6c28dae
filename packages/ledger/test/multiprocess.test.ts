import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, expect, it } from 'vitest'
import { createLedger, createSqliteStore } from '../src/index.ts'
import { testConfig } from '../src/testing/index.ts'

const worker = new URL('./fixtures/race-worker.ts', import.meta.url).pathname
let folder: string | undefined

afterEach(() => {
  if (folder) rmSync(folder, { recursive: true, force: true })
})

function startWorker(path: string, projectId: string, count: number) {
  const child = spawn(
    process.execPath,
    ['--conditions=@credly/source', worker, path, projectId, 'racer', String(count)],
    {
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  )
  let stdout = ''
  let stderr = ''
  let onReady: () => void = () => undefined
  const ready = new Promise<void>((resolve) => {
    onReady = resolve
  })
  child.stdout.on('data', (chunk) => {
    stdout += chunk
  })
  child.stderr.on('data', (chunk) => {
    stderr += chunk
    if (stderr.includes('ready\n')) onReady()
  })
  const done = new Promise<{ continued: number }>((resolve, reject) => {
    child.on('exit', (code) => {
      if (code === 0) resolve(JSON.parse(stdout))
      else reject(new Error(`race worker exited with ${code}: ${stderr}`))
    })
  })
  return { child, ready, done }
}

it.each([5, 23])(
  'two processes racing 64 starts on one SQLite file: exactly %i continue',
  async (k) => {
    folder = mkdtempSync(join(tmpdir(), 'credly-race-'))
    const path = join(folder, 'ledger.db')
    const store = createSqliteStore({ path })
    const ledger = createLedger({ store })
    const project = await ledger.createProject({ config: testConfig })
    await ledger.createUser(project.id, { user_id: 'racer', tier_id: 'empty' })
    await ledger.grantCredits(project.id, { user_id: 'racer', credits: k * 3 })

    const workers = [startWorker(path, project.id, 32), startWorker(path, project.id, 32)]
    // Both processes have opened the file before either is told to go.
    await Promise.race([
      Promise.all(workers.map((entry) => entry.ready)),
      Promise.all(workers.map((entry) => entry.done)),
    ])
    for (const { child } of workers) child.stdin.end('go\n')
    const results = await Promise.all(workers.map((entry) => entry.done))

    expect(results.reduce((sum, result) => sum + result.continued, 0)).toBe(k)
    expect(await ledger.getBalance(project.id, 'racer')).toEqual({
      user_id: 'racer',
      balance: 0,
      held: k * 3,
    })
    expect((await ledger.verify(project.id)).differences).toEqual([])
    await store.close()
  },
  60_000,
)
