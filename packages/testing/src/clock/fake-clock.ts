/** A clock that only moves when told to; pass `clock.now` wherever keyguard takes `now`. */
export interface FakeClock {
  /** The current time in epoch ms. Bound, so it can be passed around as `now`. */
  now: () => number
  /** Move forward by `ms` (must be ≥ 0) and return the new time. */
  advance: (ms: number) => number
  /** Jump to an absolute time (epoch ms, or a date string such as `2026-02-28T23:59:59Z`). */
  set: (time: number | string | Date) => number
}

/**
 * Create a fake clock for tests, so no test sleeps to wait for a window or a period.
 *
 * @param start - the starting time. @default `2026-01-01T00:00:00Z`
 * @example
 * ```ts
 * const clock = fakeClock('2026-01-31T23:59:59Z')
 * const store = memoryStore({ now: clock.now })
 * clock.advance(1000) // now in February
 * ```
 */
export function fakeClock(start: number | string | Date = '2026-01-01T00:00:00Z'): FakeClock {
  let current = toEpochMs(start)
  return {
    now: () => current,
    advance(ms) {
      if (!Number.isFinite(ms) || ms < 0)
        throw new RangeError(`fakeClock.advance(ms) needs a finite ms ≥ 0, got ${ms}`)
      current += ms
      return current
    },
    set(time) {
      current = toEpochMs(time)
      return current
    },
  }
}

function toEpochMs(time: number | string | Date): number {
  const ms = typeof time === 'number' ? time : new Date(time).getTime()
  if (!Number.isFinite(ms)) throw new RangeError(`fakeClock: ${String(time)} is not a valid time`)
  return ms
}
