import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseGoDuration, parseRetryAfter } from './parse-retry-after'

describe('parseGoDuration', () => {
  it('reads the durations OpenAI sends, with ms as milliseconds and m as minutes', () => {
    expect(parseGoDuration('20ms')).toBe(20)
    expect(parseGoDuration('1s')).toBe(1000)
    expect(parseGoDuration('6m0s')).toBe(360_000)
    expect(parseGoDuration('1h2m3.5s')).toBe(3_723_500)
    expect(parseGoDuration('0s')).toBe(0)
    expect(parseGoDuration('0')).toBe(0)
    expect(parseGoDuration('1.5ms')).toBe(1.5)
  })

  it('rejects anything that is not a duration', () => {
    for (const bad of ['', 's', '1', '-1s', '1x', '1s ms', 'abc', '1m-2s', '1e3s'])
      expect(parseGoDuration(bad), bad).toBeUndefined()
  })

  it('reads back any duration formatted as Go formats it', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 48 }),
        fc.nat({ max: 59 }),
        fc.nat({ max: 59 }),
        fc.nat({ max: 999 }),
        fc.boolean(),
        (hours, minutes, seconds, millis, asMs) => {
          const total = ((hours * 60 + minutes) * 60 + seconds) * 1000 + millis
          // Go prints sub-second durations in ms, longer ones as h/m/s with fractional seconds
          const text = asMs
            ? `${total}ms`
            : `${hours > 0 ? `${hours}h` : ''}${hours > 0 || minutes > 0 ? `${minutes}m` : ''}${seconds}${millis > 0 ? `.${String(millis).padStart(3, '0').replace(/0+$/, '')}` : ''}s`
          expect(parseGoDuration(text)).toBeCloseTo(total, 6)
        },
      ),
    )
  })
})

describe('parseRetryAfter', () => {
  it('prefers retry-after-ms', () => {
    expect(parseRetryAfter(new Headers({ 'retry-after-ms': '250', 'retry-after': '3' }))).toBe(250)
  })

  it('reads Retry-After in seconds or as an HTTP date', () => {
    expect(parseRetryAfter({ 'Retry-After': '3' })).toBe(3000)
    const now = () => Date.parse('2026-11-29T04:00:00Z')
    expect(parseRetryAfter({ 'retry-after': 'Sun, 29 Nov 2026 04:00:05 GMT' }, { now })).toBe(5000)
    expect(parseRetryAfter({ 'retry-after': 'Sun, 29 Nov 2026 03:59:00 GMT' }, { now })).toBe(0)
  })

  it('falls back to the reset of the exhausted rate limit', () => {
    const headers = {
      'x-ratelimit-remaining-requests': '0',
      'x-ratelimit-reset-requests': '20ms',
      'x-ratelimit-remaining-tokens': '5000',
      'x-ratelimit-reset-tokens': '6m0s',
    }
    expect(parseRetryAfter(headers)).toBe(20)
    expect(parseRetryAfter({ 'x-ratelimit-reset-requests': '1s', 'x-ratelimit-reset-tokens': '1m2s' })).toBe(
      62_000,
    )
  })

  it('returns undefined without any retry header', () => {
    expect(parseRetryAfter(new Headers())).toBeUndefined()
    expect(parseRetryAfter(undefined)).toBeUndefined()
    expect(parseRetryAfter({ 'retry-after': 'soon' })).toBeUndefined()
  })
})
