import { describe, expect, it } from 'vitest'
import { parseRateLimitHeaders } from './parse-rate-limit-headers'

describe('parseRateLimitHeaders', () => {
  it('reads limits, remaining counts and Go-duration resets', () => {
    const headers = new Headers({
      'x-ratelimit-limit-requests': '10000',
      'x-ratelimit-limit-tokens': '30000000',
      'x-ratelimit-remaining-requests': '9999',
      'x-ratelimit-remaining-tokens': '29999990',
      'x-ratelimit-reset-requests': '6ms',
      'x-ratelimit-reset-tokens': '1m30.5s',
    })
    expect(parseRateLimitHeaders(headers)).toEqual({
      limitRequests: 10000,
      limitTokens: 30000000,
      remainingRequests: 9999,
      remainingTokens: 29999990,
      resetRequestsMs: 6,
      resetTokensMs: 90_500,
    })
  })

  it('returns undefined when no rate-limit header is present', () => {
    expect(parseRateLimitHeaders(new Headers({ 'content-type': 'application/json' }))).toBeUndefined()
  })

  it('skips malformed values instead of reporting NaN', () => {
    expect(
      parseRateLimitHeaders({ 'x-ratelimit-limit-requests': 'lots', 'x-ratelimit-remaining-tokens': '5' }),
    ).toEqual({
      remainingTokens: 5,
    })
  })
})
