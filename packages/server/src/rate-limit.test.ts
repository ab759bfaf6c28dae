import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import type { AppEnv } from './app-env.ts'
import { rateLimit } from './rate-limit.ts'

describe('rateLimit', () => {
  it('counts requests made together in one window, however near a minute on the clock they fall', async () => {
    // One second before a whole minute on the clock (2026-11-26 12:00:59 UTC).
    const minute = Date.UTC(2026, 10, 26, 12, 1)
    let time = minute - 1_000
    const app = new Hono<AppEnv>()
      .use(async (c, next) => {
        c.set('auth', { key_id: 'key_1', project_id: 'prj_1', scope: 'metering' })
        await next()
      })
      .use(rateLimit({ requests: 2, windowMs: 60_000 }, () => time))
      .get('/', (c) => c.text('ok'))
    const statusAt = async (at: number) => {
      time = at
      return (await app.request('/')).status
    }
    expect([await statusAt(minute - 1_000), await statusAt(minute - 100)]).toEqual([200, 200])
    // Past the minute, a window aligned to the clock would have started over here.
    time = minute + 100
    const refused = await app.request('/')
    expect(refused.status).toBe(429)
    expect(refused.headers.get('retry-after')).toBe('59')
    expect(await statusAt(minute + 59_000)).toBe(200)
  })
})
