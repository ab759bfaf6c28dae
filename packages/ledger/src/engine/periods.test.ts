import { describe, expect, it } from 'vitest'
import { periodStart, periodsElapsed } from './periods.ts'

const at = (iso: string) => Date.parse(iso)
const iso = (time: number) => new Date(time).toISOString()

describe('periodStart', () => {
  it('clamps a month-end anchor to shorter months without drifting', () => {
    const anchor = at('2026-01-31T08:30:00.000Z')
    expect([1, 2, 3, 4, 13].map((index) => iso(periodStart(anchor, 'month', index)))).toEqual([
      '2026-02-28T08:30:00.000Z',
      '2026-03-31T08:30:00.000Z',
      '2026-04-30T08:30:00.000Z',
      '2026-05-31T08:30:00.000Z',
      '2027-02-28T08:30:00.000Z',
    ])
  })

  it('lands on February 29 in a leap year and on February 28 in the next', () => {
    const anchor = at('2028-02-29T00:00:00.000Z')
    expect(iso(periodStart(anchor, 'month', 12))).toBe('2029-02-28T00:00:00.000Z')
    expect(iso(periodStart(at('2027-12-31T00:00:00.000Z'), 'month', 2))).toBe(
      '2028-02-29T00:00:00.000Z',
    )
  })

  it('counts days and weeks in UTC milliseconds', () => {
    expect(iso(periodStart(at('2026-03-28T12:00:00.000Z'), 'day', 3))).toBe(
      '2026-03-31T12:00:00.000Z',
    )
    expect(iso(periodStart(at('2026-12-28T00:00:00.000Z'), 'week', 1))).toBe(
      '2027-01-04T00:00:00.000Z',
    )
  })
})

describe('periodsElapsed', () => {
  it('counts boundaries passed, exactly at the boundary too', () => {
    const anchor = at('2026-01-31T12:00:00.000Z')
    expect(periodsElapsed(anchor, 'month', at('2026-02-28T11:59:59.999Z'))).toBe(0)
    expect(periodsElapsed(anchor, 'month', at('2026-02-28T12:00:00.000Z'))).toBe(1)
    expect(periodsElapsed(anchor, 'month', at('2026-03-30T00:00:00.000Z'))).toBe(1)
    expect(periodsElapsed(anchor, 'month', at('2036-01-31T12:00:00.000Z'))).toBe(120)
    expect(periodsElapsed(anchor, 'week', at('2026-02-14T12:00:00.000Z'))).toBe(2)
    expect(periodsElapsed(anchor, 'day', at('2026-01-31T11:00:00.000Z'))).toBe(0)
  })

  it('agrees with periodStart for every month of four years from every day of a year', () => {
    for (let day = 0; day < 366; day += 5) {
      const anchor = at('2027-01-01T06:00:00.000Z') + day * 86_400_000
      for (let index = 0; index < 48; index++) {
        const boundary = periodStart(anchor, 'month', index)
        expect(periodsElapsed(anchor, 'month', boundary)).toBe(index)
        expect(periodsElapsed(anchor, 'month', boundary - 1)).toBe(Math.max(0, index - 1))
      }
    }
  })
})
