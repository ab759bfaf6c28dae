/** Where the ledger reads the time. Tests pass a clock they can move (`createTestClock`). */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number
}

/** The real time. */
export const systemClock: Clock = { now: () => Date.now() }

/** A clock that stands still until moved, for refill and expiry tests without sleeping. */
export interface TestClock extends Clock {
  /** Moves the clock forward by `ms`. */
  advance(ms: number): void
  /** Sets the clock to a time (ms since the epoch or an ISO string). */
  set(time: number | string): void
}

/** A clock that starts at `start` (default 2026-01-01T00:00:00Z) and moves only when told. */
export function createTestClock(start: number | string = '2026-01-01T00:00:00.000Z'): TestClock {
  let current = typeof start === 'string' ? Date.parse(start) : start
  return {
    now: () => current,
    advance: (ms) => {
      current += ms
    },
    set: (time) => {
      current = typeof time === 'string' ? Date.parse(time) : time
    },
  }
}
