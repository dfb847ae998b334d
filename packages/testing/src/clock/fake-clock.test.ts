import { describe, expect, it } from 'vitest'
import { fakeClock } from './fake-clock'

describe('fakeClock', () => {
  it('stands still until advanced', () => {
    const clock = fakeClock('2026-01-31T23:59:59Z')
    expect(clock.now()).toBe(Date.UTC(2026, 0, 31, 23, 59, 59))
    expect(clock.now()).toBe(clock.now())
    clock.advance(1000)
    expect(new Date(clock.now()).toISOString()).toBe('2026-02-01T00:00:00.000Z')
  })

  it('works when its now is passed around unbound', () => {
    const { now, advance } = fakeClock(0)
    advance(5)
    expect([now()].map((t) => t + 1)).toEqual([6])
  })

  it('refuses to go backwards or to an invalid date', () => {
    const clock = fakeClock()
    expect(() => clock.advance(-1)).toThrow(RangeError)
    expect(() => clock.set('not a date')).toThrow(/not a valid time/)
  })
})
