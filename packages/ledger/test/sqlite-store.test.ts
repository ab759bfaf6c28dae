import { execFile, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { promisify } from 'node:util'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DAY_MS, WEEK_MS, weekStart } from '../src/calendar.ts'
import { createTestClock } from '../src/clock.ts'
import { createLedger, createSqliteStore, type Ledger, type Store } from '../src/index.ts'
import { testConfig } from '../src/testing/index.ts'

const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url).pathname
let folder: string
let path: string

beforeEach(() => {
  folder = mkdtempSync(join(tmpdir(), 'credly-sqlite-store-'))
  path = join(folder, 'ledger.db')
})
afterEach(() => {
  rmSync(folder, { recursive: true, force: true })
})

async function openLedger(options: Partial<Parameters<typeof createSqliteStore>[0]> = {}) {
  const store = createSqliteStore({ path, ...options })
  const ledger = createLedger({ store })
  const project = await ledger.createProject({ config: testConfig })
  return { store, ledger, projectId: project.id }
}

describe('SQLite store', () => {
  let store: Store
  let ledger: Ledger
  let projectId: string
  beforeEach(async () => {
    ;({ store, ledger, projectId } = await openLedger())
    await ledger.createUser(projectId, { user_id: 'ann', tier_id: 'limited' })
  })
  afterEach(async () => {
    await store.close()
  })

  it('adds up a usage report exactly even past 2^63 micro-credits, where SQLite SUM overflows', async () => {
    // 1,100 calls at 2^53 - 1 micro-credits each: about 9.9e18, past a 64-bit integer's 9.2e18.
    // No ledger call charges that much; rows written directly stand for a project's long life.
    // Half a minute ago, half on two days of the week before last: each day's sums fit 64 bits,
    // that week's do not.
    const raw = new DatabaseSync(path)
    const user = raw.prepare("SELECT ref FROM users WHERE user_id = 'ann'").get() as { ref: string }
    const insert = raw.prepare(
      `INSERT INTO transactions (id, project_id, user_ref, user_id, tier_id, model, status, reserved,
         used, price, estimated, created_at, hold_parts, output_tokens)
       VALUES (?, ?, ?, 'ann', 'limited', 'unit', 'completed', ?, ?, '{}', 0, ?, '[]', ?)`,
    )
    const big = Number.MAX_SAFE_INTEGER
    const now = Date.now()
    const week = weekStart(now) - 2 * WEEK_MS
    raw.exec('BEGIN')
    for (let i = 0; i < 1100; i++)
      insert.run(`txn_big_${i}`, projectId, user.ref, big, big, now - 60_000, big)
    for (let i = 0; i < 1100; i++) {
      const at = week + (i % 2 === 0 ? 1 : 2) * DAY_MS
      insert.run(`txn_old_${i}`, projectId, user.ref, big, big, at, big)
    }
    raw.exec('COMMIT')
    raw.close()
    const expected = BigInt(big) * 1100n
    const recent = await ledger.getUsage(projectId, { from: new Date(now - DAY_MS).toISOString() })
    expect(recent.totals.calls).toBe(1100)
    // Exact in BigInt; a sum past 2^53 micro-credits is reported in whole credits.
    expect(recent.totals.credits_charged).toBe(Number(expected / 1_000_000n))
    expect(recent.totals.tokens.output).toBe(Number(expected))
    // By user over the whole weeks: the days are summarized, the week is not (read call by call).
    const range = { from: new Date(week).toISOString(), to: new Date(week + WEEK_MS).toISOString() }
    for (let i = 0; i < 2; i++) {
      const byUser = await ledger.getUsage(projectId, { ...range, group_by: ['user'] })
      expect(byUser.data.map(({ user_id, calls }) => [user_id, calls])).toEqual([['ann', 1100]])
      expect(byUser.totals.credits_charged).toBe(Number(expected / 1_000_000n))
      expect(byUser.totals.tokens.output).toBe(Number(expected))
    }
    expect(
      await store.write((tx) => tx.summarizeUsageDays(projectId, week, week + WEEK_MS)),
    ).toEqual({ days: 0, weeks: 0 })
  })

  it('creates the database, its WAL and its shared memory readable by their owner only', async () => {
    for (const file of [path, `${path}-wal`, `${path}-shm`]) {
      expect((statSync(file).mode & 0o777).toString(8), file).toBe('600')
    }
  })

  it('commits operations that arrive together in one transaction (group commit)', async () => {
    const before = store.stats()
    const starts = await Promise.all(
      Array.from({ length: 64 }, () =>
        ledger.startUsage(projectId, {
          user_id: 'ann',
          model: 'unit',
          provisional_tokens: { input_tokens: 1 },
        }),
      ),
    )
    expect(starts.filter((start) => start.continue)).toHaveLength(50) // the tier's 50 credits a minute
    const after = store.stats()
    expect(after.writes - before.writes).toBe(64)
    expect(after.commits - before.commits).toBeLessThan(8)
  })

  it("writes a user's row and bucket once a batch however many of its starts the batch holds", async () => {
    // A tier without a rate limit: its window's sum is a read, which sends what waits first.
    await ledger.createUser(projectId, { user_id: 'bob' })
    // Triggers count the row updates SQLite runs, whichever statements run them.
    const raw = new DatabaseSync(path)
    raw.exec(`
      CREATE TABLE row_updates (table_name TEXT NOT NULL);
      CREATE TRIGGER count_users AFTER UPDATE ON users
        BEGIN INSERT INTO row_updates VALUES ('users'); END;
      CREATE TRIGGER count_buckets AFTER UPDATE ON buckets
        BEGIN INSERT INTO row_updates VALUES ('buckets'); END;`)
    const before = store.stats()
    const starts = await Promise.all(
      Array.from({ length: 40 }, () =>
        ledger.startUsage(projectId, {
          user_id: 'bob',
          model: 'unit',
          provisional_tokens: { input_tokens: 1 },
        }),
      ),
    )
    const commits = store.stats().commits - before.commits
    expect(starts.every((start) => start.continue)).toBe(true)
    expect(commits).toBeLessThan(8)
    const updates = raw
      .prepare('SELECT table_name, count(*) AS count FROM row_updates GROUP BY table_name')
      .all()
    expect(updates).toEqual([
      { table_name: 'buckets', count: commits },
      { table_name: 'users', count: commits },
    ])
    raw.close()
    expect(await ledger.getBalance(projectId, 'bob')).toEqual({
      user_id: 'bob',
      balance: 60,
      held: 40,
    })
    const journal = await store.read((tx) => tx.readJournal(projectId, 0, 1000))
    expect(journal.filter((entry) => entry.kind === 'reserve')).toHaveLength(40)
    expect((await ledger.verify(projectId)).ok).toBe(true)
  })

  it('a key used before, in a batch that took keys as new, is replayed and the batch applied once', async () => {
    await ledger.createUser(projectId, { user_id: 'bob' })
    const start = (key?: string) =>
      ledger.startUsage(
        projectId,
        { user_id: 'bob', model: 'unit', provisional_tokens: { input_tokens: 1 } },
        key === undefined ? {} : { idempotencyKey: key },
      )
    const first = await start('k1')
    const before = store.stats()
    // One batch: the used key fails its insert at the commit; the batch runs again reading keys.
    const [again, ...others] = await Promise.all([start('k1'), start(), start('k2'), start()])
    expect(again).toEqual(first)
    expect(others.every((result) => result.continue)).toBe(true)
    expect(store.stats().retries - before.retries).toBe(1)
    expect(await ledger.getBalance(projectId, 'bob')).toEqual({
      user_id: 'bob',
      balance: 96,
      held: 4,
    })
    expect((await ledger.verify(projectId)).ok).toBe(true)
  })

  it('a failing operation in a batch does not undo the others', async () => {
    const results = await Promise.allSettled([
      ledger.grantCredits(projectId, { user_id: 'ann', credits: 1 }),
      ledger.startUsage(projectId, {
        user_id: 'ann',
        model: 'no-such-model',
        provisional_tokens: { input_tokens: 1 },
      }),
      ledger.grantCredits(projectId, { user_id: 'ann', credits: 2 }),
    ])
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
    expect((await ledger.getBalance(projectId, 'ann')).balance).toBe(1003)
    expect((await ledger.verify(projectId)).ok).toBe(true)
  })

  it('an operation sees a config change committed earlier in the same batch', async () => {
    const newModel = {
      ...testConfig,
      models: { ...testConfig.models, fresh: { input: 1_000_000, output: 1_000_000 } },
    }
    // Issued in one turn of the event loop: one transaction, in this order.
    const [before, updated, after] = await Promise.allSettled([
      ledger.startUsage(projectId, { user_id: 'ann', model: 'unit' }),
      ledger.updateProjectConfig(projectId, newModel),
      ledger.startUsage(projectId, { user_id: 'ann', model: 'fresh' }),
    ])
    expect([before.status, updated.status, after.status]).toEqual([
      'fulfilled',
      'fulfilled',
      'fulfilled',
    ])
  })

  it('a rate-limit window kept by one store counts the calls another store made', async () => {
    // Each store keeps carl's spend in this minute from its last call; a sum kept stale would let
    // a call through past the tier's 50 credits a minute.
    const other = createSqliteStore({ path })
    try {
      // A clock standing 10 s into a minute, so the calls share one window.
      const clock = createTestClock(Math.ceil(Date.now() / 60_000) * 60_000 + 10_000)
      const ledgers = [createLedger({ store, clock }), createLedger({ store: other, clock })]
      const [first, second] = ledgers as [Ledger, Ledger]
      await first.createUser(projectId, { user_id: 'carl', tier_id: 'limited' })
      const call = (instance: Ledger, tokens: number) =>
        instance.startUsage(projectId, {
          user_id: 'carl',
          model: 'unit',
          provisional_tokens: { input_tokens: tokens },
        })
      expect((await call(first, 20)).continue).toBe(true)
      expect((await call(second, 20)).continue).toBe(true)
      for (const instance of ledgers) expect((await call(instance, 20)).reason).toBe('rate_limited')
      expect((await call(first, 10)).continue).toBe(true)
      expect((await call(second, 1)).reason).toBe('rate_limited')
      expect((await first.verify(projectId)).ok).toBe(true)
    } finally {
      await other.close()
    }
  })

  it('a write sees what another connection committed since its last batch', async () => {
    // The writer keeps ann's row and buckets between batches; the other store's grant must not
    // be overwritten by a balance it remembers.
    const other = createSqliteStore({ path })
    try {
      const otherLedger = createLedger({ store: other })
      await ledger.grantCredits(projectId, { user_id: 'ann', credits: 1 })
      await otherLedger.grantCredits(projectId, { user_id: 'ann', credits: 2 })
      await ledger.grantCredits(projectId, { user_id: 'ann', credits: 4 })
      const start = await otherLedger.startUsage(projectId, {
        user_id: 'ann',
        model: 'unit',
        provisional_tokens: { input_tokens: 10 },
      })
      await ledger.completeUsage(projectId, {
        transaction_id: start.transaction_id as string,
        success: true,
        finalized_tokens: { input_tokens: 3 },
      })
      expect((await ledger.getBalance(projectId, 'ann')).balance).toBe(1004)
      expect((await otherLedger.getBalance(projectId, 'ann')).balance).toBe(1004)
      expect((await ledger.verify(projectId)).ok).toBe(true)
    } finally {
      await other.close()
    }
  })

  it('a unit rolled back leaves nothing of its writes for the next batch to read', async () => {
    await ledger.grantCredits(projectId, { user_id: 'ann', credits: 1 })
    const failed = store.write(async (tx) => {
      const user = await tx.lockUser(projectId, 'ann')
      if (!user) throw new Error('ann is missing')
      await tx.updateUser({ ...user, available: user.available + 999_000_000 })
      throw new Error('fails after its write')
    })
    await expect(failed).rejects.toThrow('fails after its write')
    await ledger.grantCredits(projectId, { user_id: 'ann', credits: 2 })
    expect((await ledger.getBalance(projectId, 'ann')).balance).toBe(1003)
    expect((await ledger.verify(projectId)).ok).toBe(true)
  })

  it('refuses to change or delete journal entries', async () => {
    const raw = new DatabaseSync(path)
    try {
      expect(() => raw.exec('UPDATE journal SET amount = amount + 1')).toThrow(/append-only/)
      expect(() => raw.exec('DELETE FROM journal')).toThrow(/append-only/)
    } finally {
      raw.close()
    }
  })

  it('verify() reports a balance changed behind the ledger’s back', async () => {
    const raw = new DatabaseSync(path)
    raw.exec("UPDATE users SET available = available + 5000000 WHERE user_id = 'ann'")
    raw.close()
    const report = await ledger.verify(projectId)
    expect(report.ok).toBe(false)
    expect(report.differences).toContainEqual(
      expect.objectContaining({
        subject: 'user',
        message: 'available credits differ from the journal',
        expected: 1000,
        actual: 1005,
      }),
    )
  })

  it('uses WAL and the synchronous setting asked for', async () => {
    const raw = new DatabaseSync(path)
    expect(raw.prepare('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'wal' })
    raw.close()
    const normal = createSqliteStore({ path: join(folder, 'normal.db'), synchronous: 'NORMAL' })
    await normal.close()
  })
})

describe('SQLite across processes', () => {
  it('keeps an acknowledged write when the process is killed right after', async () => {
    const { store, ledger, projectId } = await openLedger()
    await ledger.createUser(projectId, { user_id: 'ann', tier_id: 'empty' })
    await store.close()

    const child = spawn(process.execPath, [
      '--conditions=@credly/source',
      fixture('ack-worker.ts'),
      path,
      projectId,
      'ann',
      '42',
    ])
    const grantId = await new Promise<string>((resolve, reject) => {
      let out = ''
      let err = ''
      child.stdout.on('data', (chunk) => {
        out += chunk
        const match = /acked (\S+)\n/.exec(out)
        if (match) {
          child.kill('SIGKILL')
          resolve(match[1] as string)
        }
      })
      child.stderr.on('data', (chunk) => {
        err += chunk
      })
      child.on('exit', (code) => {
        if (!out.includes('acked')) reject(new Error(`ack worker exited with ${code}: ${err}`))
      })
    })

    const reopened = createSqliteStore({ path })
    const after = createLedger({ store: reopened })
    expect((await after.getBalance(projectId, 'ann')).balance).toBe(42)
    expect((await reopened.read((tx) => tx.getBucket(grantId)))?.credits).toBe(42_000_000)
    expect((await after.verify(projectId)).ok).toBe(true)
    await reopened.close()
  }, 30_000)

  it('four processes opening one new file at once all migrate it safely', async () => {
    const run = () =>
      promisify(execFile)(
        process.execPath,
        ['--conditions=@credly/source', fixture('open-worker.ts'), path],
        { timeout: 30_000 },
      )
    const results = await Promise.all([run(), run(), run(), run()])
    for (const result of results) expect(result.stdout).toMatch(/^prj_/)
    const raw = new DatabaseSync(path)
    expect(raw.prepare('SELECT COUNT(*) AS count FROM projects').get()).toEqual({ count: 4 })
    raw.close()
  }, 30_000)
})
