import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { promisify } from 'node:util'
import type { PricedModel } from '@credly/ledger'
import { createClient, VERSION } from 'credly'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type ServeProcess, startCredlyServe } from './credly-serve.ts'

const cli = new URL('../src/cli/run.ts', import.meta.url).pathname
const config = {
  models: { 'gpt-4o': { input: 2.5, output: 10 } },
  tiers: { free: { credits: 100 } },
}

let folder: string
let database: string
let configPath: string
beforeEach(() => {
  folder = mkdtempSync(join(tmpdir(), 'credly-cli-'))
  database = join(folder, 'credly.db')
  configPath = join(folder, 'credly.json')
  writeFileSync(configPath, JSON.stringify(config))
})
afterEach(() => {
  rmSync(folder, { recursive: true, force: true })
})

async function run(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      ['--conditions=@credly/source', cli, ...args],
      {
        timeout: 30_000,
        env: { ...process.env, DATABASE_URL: '' },
      },
    )
    return { code: 0, stdout, stderr }
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string }
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr }
  }
}

/** Starts `credly serve` on the test's database and a free port. */
function serve(...args: string[]): Promise<ServeProcess> {
  return startCredlyServe(['--database', database, '--port', '0', ...args])
}

describe('the published bin', () => {
  it('runs from the built dist/, as `npx credly` would', async () => {
    const bin = new URL('../bin/credly.js', import.meta.url).pathname
    const { stdout } = await promisify(execFile)(process.execPath, [bin, '--version'], {
      timeout: 30_000,
    })
    expect(stdout.trim()).toBe(VERSION)
  }, 30_000)
})

describe('credly init', () => {
  it('--json prints one JSON object with the project id and its keys', async () => {
    const result = await run('init', '--config', configPath, '--database', database, '--json')
    expect(result.code).toBe(0)
    const created = JSON.parse(result.stdout)
    expect(Object.keys(created).sort()).toEqual(['admin_key', 'metering_key', 'project_id'])
    expect(created.admin_key).toMatch(/^ck_admin_/)
    expect(created.metering_key).toMatch(/^ck_meter_/)
  })

  it('refuses a second project in the same database unless asked, and says what to do', async () => {
    expect((await run('init', '--config', configPath, '--database', database, '--json')).code).toBe(
      0,
    )
    const again = await run('init', '--config', configPath, '--database', database)
    expect(again.code).toBe(2)
    expect(again.stderr).toContain('already has a project')
    expect(again.stderr).toContain('--new-project')
    const added = await run(
      'init',
      '--config',
      configPath,
      '--database',
      database,
      '--new-project',
      '--json',
    )
    expect(added.code).toBe(0)
    // Two projects: commands that need one now ask which.
    const ambiguous = await run('users', 'list', '--database', database)
    expect(ambiguous.code).toBe(2)
    expect(ambiguous.stderr).toContain(JSON.parse(added.stdout).project_id)
  })

  it('prints the usage and exits 2 when no command is given', async () => {
    const result = await run()
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('Usage:')
    expect((await run('--help')).code).toBe(0)
  })

  it('names the invalid field of a config file and exits 2', async () => {
    writeFileSync(
      configPath,
      JSON.stringify({
        models: { m: { input: 'cheap', output: 1 } },
        tiers: { free: { credits: 1 } },
      }),
    )
    const result = await run('init', '--config', configPath, '--database', database)
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('models.m.input')
    const missing = await run('init', '--config', join(folder, 'nope.json'), '--database', database)
    expect(missing).toMatchObject({ code: 2 })
    expect(missing.stderr).toContain('cannot read the config file')
  })
})

describe('credly serve', () => {
  it('serves the API that createClient talks to, and finishes a request in flight on SIGTERM', async () => {
    const { project_id: projectId, admin_key: adminKey } = JSON.parse(
      (await run('init', '--config', configPath, '--database', database, '--json')).stdout,
    )
    const server = await serve()
    const client = createClient({ apiKey: adminKey, projectId, baseUrl: server.url })
    await client.createUser({ user_id: 'ann' })

    // A request whose body is still arriving when the signal comes.
    const body = JSON.stringify({
      user_id: 'ann',
      model: 'gpt-4o',
      provisional_tokens: { output_tokens: 1_000_000 },
    })
    const inFlight = new Promise<{ status: number; text: string }>((resolve, reject) => {
      const pending = request(
        `${server.url}/v1/usage/start`,
        {
          method: 'POST',
          headers: {
            authorization: `Bearer ${adminKey}`,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
          },
        },
        (response) => {
          let text = ''
          response.on('data', (chunk) => {
            text += chunk
          })
          response.on('end', () => resolve({ status: response.statusCode ?? 0, text }))
        },
      )
      pending.on('error', reject)
      pending.write(body.slice(0, 10))
      setTimeout(() => {
        server.child.kill('SIGTERM')
        const waitForShutdownLog = setInterval(() => {
          if (
            server.logs().some((line) => line.msg === 'shutting down: finishing requests in flight')
          ) {
            clearInterval(waitForShutdownLog)
            pending.end(body.slice(10))
          }
        }, 20)
      }, 100)
    })
    const answered = await inFlight
    expect(answered.status).toBe(200)
    expect(JSON.parse(answered.text)).toMatchObject({ continue: true, credits_used: 10 })
    expect(await server.exited).toBe(0)
    expect(server.logs().map((line) => line.msg)).toEqual(
      expect.arrayContaining(['listening', 'request', 'stopped']),
    )
    const requestLog = server
      .logs()
      .find((line) => line.msg === 'request' && line.operation === 'startUsageTransaction')
    expect(requestLog).toMatchObject({ status: 200, method: 'POST', project_id: projectId })

    // The reservation made during shutdown was committed.
    const verify = await run('verify', '--database', database)
    expect(verify.code).toBe(0)
    expect(verify.stdout).toContain('granted 100 = available 90 + held 10')
  }, 30_000)

  it('creates a project from --config on an empty database and logs its keys once', async () => {
    const server = await serve('--config', configPath)
    const created = server
      .logs()
      .find((line) => line.msg === 'project created; these keys are shown once')
    expect(created?.admin_key).toMatch(/^ck_admin_/)
    const health = await fetch(`${server.url}/healthz`)
    expect(await health.json()).toMatchObject({ status: 'ok', store: 'sqlite' })
    server.child.kill('SIGINT')
    expect(await server.exited).toBe(0)
  }, 30_000)

  it('--key-cache 0 refuses a key revoked by another process at once (the default trusts it 10 s)', async () => {
    const { project_id: projectId, admin_key: adminKey } = JSON.parse(
      (await run('init', '--config', configPath, '--database', database, '--json')).stdout,
    )
    const key = JSON.parse(
      (await run('keys', 'create', '--scope', 'metering', '--database', database, '--json')).stdout,
    )
    const trusting = await serve()
    const reading = await serve('--key-cache', '0')
    const balance = (url: string) =>
      fetch(`${url}/v1/users/ann/balance`, { headers: { authorization: `Bearer ${key.key}` } })
    await createClient({ apiKey: adminKey, projectId, baseUrl: reading.url }).createUser({
      user_id: 'ann',
    })
    for (const server of [trusting, reading]) expect((await balance(server.url)).status).toBe(200)
    expect((await run('keys', 'revoke', key.id, '--database', database)).code).toBe(0)
    expect((await balance(reading.url)).status).toBe(401)
    expect((await balance(trusting.url)).status).toBe(200)
    for (const server of [trusting, reading]) {
      server.child.kill('SIGTERM')
      expect(await server.exited).toBe(0)
    }
  }, 30_000)

  it('refuses PostgreSQL options on a SQLite database, and a key cache or pool out of range', async () => {
    expect((await run('init', '--config', configPath, '--database', database)).code).toBe(0)
    for (const [args, message] of [
      [['--pg-pool', '4'], '--pg-pool applies to a PostgreSQL database'],
      [['--key-cache', '1.5'], '--key-cache must be a whole number'],
      [['--key-cache', '3601'], '--key-cache must be at most 3600 seconds'],
    ] as const) {
      const result = await run('serve', '--database', database, '--port', '0', ...args)
      expect(result.code).toBe(2)
      expect(result.stderr).toContain(message)
    }
    const url = 'postgres://credly@127.0.0.1:1/credly'
    const tooMany = await run(
      'serve',
      '--database',
      url,
      '--pg-pool',
      '2',
      '--pg-write-transactions',
      '3',
    )
    expect(tooMany.code).toBe(2)
    expect(tooMany.stderr).toContain(
      '--pg-write-transactions (3) must not be more than --pg-pool (2)',
    )
  }, 30_000)

  it('says so when PostgreSQL cannot be reached', async () => {
    const result = await run('migrate', '--database', 'postgres://credly:secret@127.0.0.1:1/credly')
    expect(result.code).toBe(1)
    expect(result.stderr).toContain(
      'Cannot use PostgreSQL at postgres://credly:***@127.0.0.1:1/credly',
    )
    expect(result.stderr).not.toContain('secret')
  }, 30_000)

  it('says so when the port is in use', async () => {
    const blocker = createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
    const port = (blocker.address() as { port: number }).port
    try {
      const result = await run(
        'serve',
        '--config',
        configPath,
        '--database',
        database,
        '--port',
        String(port),
      )
      expect(result.code).toBe(1)
      expect(result.stderr).toContain(`Port ${port} on 127.0.0.1 is in use`)
    } finally {
      blocker.close()
    }
  }, 30_000)
})

describe('credly serve limits', () => {
  it('takes --rate-limit per key per minute, and names a bad limit', async () => {
    const bad = await run(
      'serve',
      '--config',
      configPath,
      '--database',
      database,
      '--max-connections',
      'many',
    )
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('--max-connections must be a whole number')
    const server = await serve(
      '--config',
      configPath,
      '--rate-limit',
      '2',
      '--headers-timeout',
      '2',
    )
    const created = server
      .logs()
      .find((line) => String(line.msg).startsWith('project created')) as {
      metering_key: string
    }
    const statuses: number[] = []
    for (let index = 0; index < 3; index++) {
      const response = await fetch(`${server.url}/v1/users`, {
        headers: { authorization: `Bearer ${created.metering_key}` },
      })
      statuses.push(response.status)
    }
    expect(statuses).toEqual([200, 200, 429])
    expect(server.logs().find((line) => line.msg === 'listening')?.limits).toMatchObject({
      rate_limit_per_minute: 2,
      headersTimeoutMs: 2000,
    })
    server.child.kill('SIGTERM')
    expect(await server.exited).toBe(0)
  }, 30_000)
})

describe('credly serve refuses to start on a database without a project', () => {
  it('names a mistyped --database instead of creating an empty ledger there', async () => {
    const result = await run('serve', '--database', database, '--port', '0')
    expect(result.code).toBe(2)
    expect(result.stderr).toContain(`there is no database at "${database}"`)
    expect(existsSync(database)).toBe(false)
  })

  it('says a database without a project has none, and --config creates one', async () => {
    new DatabaseSync(database).close()
    const result = await run('serve', '--database', database, '--port', '0')
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('has no project')
    const server = await serve('--config', configPath)
    expect(server.logs().find((line) => line.msg === 'listening')).toBeDefined()
    server.child.kill('SIGTERM')
    expect(await server.exited).toBe(0)
  }, 30_000)
})

describe('credly keys, users and verify', () => {
  it('manages keys and users, and verify exits 1 on a tampered balance', async () => {
    await run('init', '--config', configPath, '--database', database)
    const created = await run(
      'keys',
      'create',
      '--scope',
      'metering',
      '--name',
      'web',
      '--database',
      database,
      '--json',
    )
    const key = JSON.parse(created.stdout)
    expect(key).toMatchObject({ scope: 'metering', name: 'web' })
    const listed = await run('keys', 'list', '--database', database)
    expect(listed.stdout).toMatch(/^id\s+key\s+scope\s+state/)
    expect(listed.stdout).toContain(key.id)
    expect(
      JSON.parse((await run('keys', 'list', '--database', database, '--json')).stdout),
    ).toHaveLength(3)
    expect(listed.stdout).not.toContain(key.key)
    expect((await run('keys', 'revoke', key.id, '--database', database)).stdout).toContain(
      `revoked ${key.id}`,
    )

    const badScope = await run('keys', 'create', '--scope', 'root', '--database', database)
    expect(badScope.code).toBe(2)

    const raw = new DatabaseSync(database)
    const projectId = (raw.prepare('SELECT id FROM projects').get() as { id: string }).id
    raw.close()
    const { ledgerUser } = await (async () => {
      const { createLedger, createSqliteStore } = await import('@credly/ledger')
      const store = createSqliteStore({ path: database })
      const user = await createLedger({ store }).createUser(projectId, { user_id: 'ann' })
      await store.close()
      return { ledgerUser: user }
    })()
    expect(ledgerUser.balance).toBe(100)

    const grant = await run(
      'users',
      'grant',
      'ann',
      '--credits',
      '5',
      '--reason',
      'support',
      '--database',
      database,
    )
    expect(JSON.parse(grant.stdout)).toMatchObject({ credits: 5, reason: 'support' })
    expect(
      JSON.parse((await run('users', 'show', 'ann', '--database', database)).stdout),
    ).toMatchObject({ balance: 105 })
    expect(
      JSON.parse((await run('users', 'list', '--database', database, '--json')).stdout).data,
    ).toHaveLength(1)
    const users = (await run('users', 'list', '--database', database)).stdout.split('\n')
    expect(users[0]).toMatch(/^user_id\s+tier\s+balance\s+held/)
    expect(users[1]).toMatch(/^ann\s+free\s+105\s+0\s/)
    expect((await run('users', 'show', 'nobody', '--database', database)).code).toBe(1)

    expect((await run('verify', '--database', database)).code).toBe(0)
    const tamper = new DatabaseSync(database)
    tamper.exec("UPDATE users SET available = available + 1000000 WHERE user_id = 'ann'")
    tamper.close()
    const verify = await run('verify', '--database', database)
    expect(verify.code).toBe(1)
    expect(verify.stdout).toContain(
      'available credits differ from the journal (journal 105, stored 106)',
    )
  }, 60_000)

  it('usage prints a table, JSON or CSV of a range grouped as asked; transactions export as CSV', async () => {
    const created = JSON.parse(
      (await run('init', '--config', configPath, '--database', database, '--json')).stdout,
    )
    const { createLedger, createSqliteStore } = await import('@credly/ledger')
    const store = createSqliteStore({ path: database })
    const ledger = createLedger({ store })
    await ledger.createUser(created.project_id, { user_id: 'ann' })
    for (const tokens of [1_000_000, 3_000_000]) {
      const start = await ledger.startUsage(created.project_id, { user_id: 'ann', model: 'gpt-4o' })
      await ledger.completeUsage(created.project_id, {
        transaction_id: start.transaction_id as string,
        success: true,
        finalized_tokens: { output_tokens: tokens },
      })
    }
    await store.close()

    const table = await run('usage', '--group-by', 'model', '--database', database)
    expect(table.code).toBe(0)
    const lines = table.stdout.trim().split('\n')
    expect(lines[1]).toMatch(/^model\s+calls\s+credits_charged/)
    expect(lines[2]).toMatch(/^gpt-4o\s+2\s+40\s/)
    const json = JSON.parse((await run('usage', '--database', database, '--json')).stdout)
    expect(json.totals).toMatchObject({
      calls: 2,
      credits_charged: 40,
      tokens: { output: 4_000_000 },
    })
    const csv = (await run('usage', '--group-by', 'day,model', '--csv', '--database', database))
      .stdout
    expect(csv.split('\r\n')[0]).toBe(
      'day,model,calls,credits_charged,credits_refunded,input_tokens,cached_input_tokens,cache_write_tokens,output_tokens,reasoning_tokens,refused_insufficient_credits,refused_rate_limited',
    )
    expect(csv.split('\r\n')[1]).toMatch(/^\d{4}-\d{2}-\d{2},gpt-4o,2,40,0,0,0,0,4000000,0,0,0$/)
    const exported = (await run('transactions', '--csv', '--database', database)).stdout.split(
      '\r\n',
    )
    expect(exported[0]).toBe(
      'id,created_at,user_id,model,feature_identifier,status,credits_reserved,credits_used,input_tokens,output_tokens,estimated',
    )
    expect(exported.filter((line) => /,ann,gpt-4o,,completed,0,(10|30),/.test(line))).toHaveLength(
      2,
    )
    const listed = (await run('transactions', '--database', database)).stdout
    expect(listed).toMatch(/^id\s+created_at\s+user_id/)
    const bad = await run('usage', '--group-by', 'week', '--database', database)
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain('group_by')
  }, 30_000)

  it('models lists config and catalog prices; --freeze pins what the project metered', async () => {
    const catalogConfig = {
      pricing: { catalog: true, credits_per_usd: 1000, markup: 1.5 },
      models: { 'house-model': { input: 1, output: 2 } },
      tiers: { free: { credits: 1000 } },
    }
    writeFileSync(configPath, JSON.stringify(catalogConfig))
    const created = JSON.parse(
      (await run('init', '--config', configPath, '--database', database, '--json')).stdout,
    )
    const { calcPrice } = await import('@pydantic/genai-prices')
    const usdPerMillion = (model: string, provider: string, usage: Record<string, number>) =>
      calcPrice(usage, model, { providerId: provider })?.total_price ?? Number.NaN
    const listed = await run('models', '--search', 'gpt-4o-mini', '--json', '--database', database)
    const entries = JSON.parse(listed.stdout) as PricedModel[]
    const mini = entries.find(
      (entry) => entry.model === 'gpt-4o-mini' && entry.provider === 'openai',
    )
    // The catalog's own price of a million tokens, in credits at this project's rate and markup.
    expect(mini?.price.input).toBeCloseTo(
      usdPerMillion('gpt-4o-mini', 'openai', { input_tokens: 1e6 }) * 1500,
      6,
    )
    expect(mini?.price.output).toBeCloseTo(
      usdPerMillion('gpt-4o-mini', 'openai', { output_tokens: 1e6 }) * 1500,
      6,
    )
    expect(mini?.source).toMatchObject({ from: 'catalog', model: 'gpt-4o-mini' })
    const table = (await run('models', '--search', 'house', '--database', database)).stdout
    expect(table).toMatch(/^house-model\s+1\s+2\s+config$/m)

    // Meter one catalog-priced call, then freeze: its price moves under "models".
    const { createLedger, createSqliteStore } = await import('@credly/ledger')
    const store = createSqliteStore({ path: database })
    const ledger = createLedger({ store })
    await ledger.createUser(created.project_id, { user_id: 'ann' })
    const start = await ledger.startUsage(created.project_id, {
      user_id: 'ann',
      model: 'gpt-4o-mini',
      provider: 'openai.chat',
    })
    expect(start.continue).toBe(true)
    await store.close()
    const frozen = await run('models', '--freeze', '--database', database)
    expect(frozen.code).toBe(0)
    expect(frozen.stdout).toMatch(/Froze 1 price into project/)
    const after = JSON.parse(
      (await run('models', '--search', 'gpt-4o-mini', '--json', '--database', database)).stdout,
    ) as PricedModel[]
    expect(after[0]).toMatchObject({
      model: 'gpt-4o-mini',
      source: { from: 'config' },
      price: mini?.price,
    })
    const unknown = await run('models', '--freeze', 'no-such-model', '--database', database)
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toContain('does not know the model "no-such-model"')
  }, 60_000)

  it('verify reports a project it cannot read, and still checks the others', async () => {
    const { createLedger, createSqliteStore } = await import('@credly/ledger')
    const store = createSqliteStore({ path: database })
    const ledger = createLedger({ store })
    const broken = await ledger.createProject({ config })
    const fine = await ledger.createProject({ config })
    await ledger.createUser(broken.id, { user_id: 'ann' })
    await ledger.createUser(fine.id, { user_id: 'bob' })
    await store.close()
    // A value past 2^53, as an older version could store: reading it throws a RangeError.
    const raw = new DatabaseSync(database)
    raw.exec(`UPDATE users SET available = 9007199254740993 WHERE project_id = '${broken.id}'`)
    raw.close()
    const verify = await run('verify', '--database', database)
    expect(verify.code).toBe(1)
    expect(verify.stdout).toContain(`${broken.id}: could not be verified`)
    expect(verify.stdout).toContain(`${fine.id}: ok`)
  }, 30_000)
})
