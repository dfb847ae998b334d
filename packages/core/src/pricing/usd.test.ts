import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { formatUsd, usd } from './usd'

describe('usd', () => {
  it('converts dollars to integer nanos without float residue', () => {
    expect(usd(0.15)).toBe(150_000_000)
    expect(usd(0.005)).toBe(5_000_000)
    expect(usd(600)).toBe(600_000_000_000)
    expect(usd(-1.5)).toBe(-1_500_000_000)
  })
  it('returns every whole number of nanos written in dollars exactly', () => {
    fc.assert(fc.property(fc.integer({ min: -1e15, max: 1e15 }), (nanos) => usd(nanos / 1e9) === nanos))
  })
  it('refuses, with config.invalid and the fix, an amount it cannot hold exactly', () => {
    for (const dollars of [Number.NaN, Number.POSITIVE_INFINITY, 1e7, -1e7, 1 / 3, 0.0000000001]) {
      expect(() => usd(dollars)).toThrow(expect.objectContaining({ code: 'config.invalid' }))
    }
    expect(() => usd(1e7)).toThrow(
      /usd\(10000000\): not an exact amount of nano-USD; usd\(\) takes amounts up to \$9,007,199/,
    )
    expect(() => usd(1 / 3)).toThrow(/at most 9 decimal places/)
    expect(usd(9_007_199)).toBe(9_007_199_000_000_000)
  })
})

describe('formatUsd', () => {
  it('formats with two to six decimals by default', () => {
    expect(formatUsd(1_200_000)).toBe('$0.0012')
    expect(formatUsd(5_000_000_000)).toBe('$5.00')
    expect(formatUsd(123_456_789)).toBe('$0.123457')
    expect(formatUsd(-2_500_000_000)).toBe('-$2.50')
  })
  it('honours digits', () => {
    expect(formatUsd(123_456_789, { digits: 9 })).toBe('$0.123456789')
    expect(formatUsd(1_999_999_999, { digits: 2 })).toBe('$2.00')
  })
  it('shows a cost too small for `digits` with two significant digits instead of $0.00', () => {
    expect(formatUsd(80)).toBe('$0.00000008')
    expect(formatUsd(123)).toBe('$0.00000012')
    expect(formatUsd(-400)).toBe('-$0.0000004')
    expect(formatUsd(4_000, { digits: 2 })).toBe('$0.000004')
    expect(formatUsd(0)).toBe('$0.00')
  })
  it('rejects fractional nanos', () => {
    expect(() => formatUsd(0.5)).toThrow(RangeError)
  })
})
