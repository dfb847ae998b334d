import { describe, expect, it } from 'vitest'
import { isTimeZone, periodOf, periodSpanOf } from './period-of'

describe('periodOf', () => {
  it('cuts UTC months at the first of the month', () => {
    expect(periodOf(Date.UTC(2026, 10, 28, 12), { period: 'month' })).toEqual({
      id: '2026-11',
      endsAt: Date.UTC(2026, 11, 1),
    })
    expect(periodOf(Date.UTC(2026, 11, 31, 23, 59, 59), { period: 'month' })).toEqual({
      id: '2026-12',
      endsAt: Date.UTC(2027, 0, 1),
    })
  })

  it('clamps anchor day 31 to the end of short months, leap years included', () => {
    expect(periodOf(Date.UTC(2028, 1, 29, 12), { period: 'month', anchorDay: 31 })).toEqual({
      id: '2028-02-29',
      endsAt: Date.UTC(2028, 2, 31),
    })
    expect(periodOf(Date.UTC(2028, 1, 28, 12), { period: 'month', anchorDay: 31 })).toEqual({
      id: '2028-01-31',
      endsAt: Date.UTC(2028, 1, 29),
    })
    expect(periodOf(Date.UTC(2027, 1, 28), { period: 'month', anchorDay: 31 })).toEqual({
      id: '2027-02-28',
      endsAt: Date.UTC(2027, 2, 31),
    })
    expect(periodOf(Date.UTC(2026, 3, 30), { period: 'month', anchorDay: 31 }).id).toBe('2026-04-30')
  })

  it('cuts days on a leap day', () => {
    expect(periodOf(Date.UTC(2028, 1, 29, 23), { period: 'day' })).toEqual({
      id: '2028-02-29',
      endsAt: Date.UTC(2028, 2, 1),
    })
  })

  it('starts weeks on Monday', () => {
    // 2026-11-29 is a Sunday
    expect(periodOf(Date.UTC(2026, 10, 29, 12), { period: 'week' })).toEqual({
      id: 'week-2026-11-23',
      endsAt: Date.UTC(2026, 10, 30),
    })
  })

  it('follows a time zone across a DST change', () => {
    // Europe/Paris leaves summer time on 2026-10-25: that day lasts 25 hours
    const day = periodOf(Date.UTC(2026, 9, 25, 12), { period: 'day', timeZone: 'Europe/Paris' })
    expect(day).toEqual({ id: '2026-10-25', endsAt: Date.UTC(2026, 9, 25, 23) })
    const before = periodOf(Date.UTC(2026, 9, 24, 12), { period: 'day', timeZone: 'Europe/Paris' })
    expect(before.endsAt).toBe(Date.UTC(2026, 9, 24, 22))
    // New York: 2026-03-08 springs forward; the month still ends at local midnight (UTC-4)
    expect(periodOf(Date.UTC(2026, 2, 31, 12), { period: 'month', timeZone: 'America/New_York' })).toEqual({
      id: '2026-03',
      endsAt: Date.UTC(2026, 3, 1, 4),
    })
  })

  it('puts an instant in the zone’s local month', () => {
    // 23:30 UTC on Nov 30 is already December in Tokyo
    expect(periodOf(Date.UTC(2026, 10, 30, 23, 30), { period: 'month', timeZone: 'Asia/Tokyo' }).id).toBe(
      '2026-12',
    )
  })
})

describe('periodOf, called again', () => {
  it('answers from the period it last computed until the instant leaves it, in both directions', () => {
    const options = { period: 'day', timeZone: 'Europe/Paris' } as const
    // Paris midnight of 2026-11-28 is 23:00 UTC on the 27th.
    const start = Date.UTC(2026, 10, 27, 23)
    const inside = periodOf(start + 3_600_000, options)
    expect(periodOf(start, options)).toEqual(inside)
    expect(periodOf(start - 1, options).id).toBe('2026-11-27')
    expect(periodOf(start + 86_399_999, options).id).toBe('2026-11-28')
    expect(periodOf(start + 86_400_000, options).id).toBe('2026-11-29')
    expect(periodOf(start + 1, options)).toEqual({ id: '2026-11-28', endsAt: start + 86_400_000 })
  })
})

describe('isTimeZone', () => {
  it('tells known zones from unknown ones', () => {
    expect(isTimeZone('Europe/Paris')).toBe(true)
    expect(isTimeZone('Mars/Olympus')).toBe(false)
  })
})

describe('periodSpanOf', () => {
  it('gives the period with the instant it starts, cached or not', () => {
    const month = { period: 'month' } as const
    const span = { id: '2026-11', startsAt: Date.UTC(2026, 10, 1), endsAt: Date.UTC(2026, 11, 1) }
    expect(periodSpanOf(Date.UTC(2026, 10, 28), month)).toEqual(span)
    expect(periodSpanOf(Date.UTC(2026, 10, 2), month)).toEqual(span)
    expect(periodSpanOf(Date.UTC(2026, 11, 2), { period: 'day', timeZone: 'Europe/Paris' })).toEqual({
      id: '2026-12-02',
      startsAt: Date.UTC(2026, 11, 1, 23),
      endsAt: Date.UTC(2026, 11, 2, 23),
    })
  })
})
