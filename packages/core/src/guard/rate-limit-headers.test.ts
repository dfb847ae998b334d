import { parseList } from 'structured-headers'
import { describe, expect, it } from 'vitest'
import type { ChargeState } from '../limits/store'
import { rateLimitHeaders } from './rate-limit-headers'

const now = Date.UTC(2026, 10, 28, 12, 0, 0)
const state = (overrides: Partial<ChargeState>): ChargeState => ({
  scope: 'tenant:acme',
  policy: 'rpm',
  kind: 'requests',
  limit: 60,
  used: 1,
  held: 0,
  remaining: 59,
  resetAt: now + 60_000,
  ...overrides,
})

describe('rateLimitHeaders', () => {
  it('writes one structured-field item per policy with quota, remaining and seconds to reset', () => {
    const values = rateLimitHeaders(
      [state({}), state({ policy: 'parallel', kind: 'concurrency', limit: 4, remaining: 3, resetAt: null })],
      { now },
    )
    expect(values).toEqual({
      ratelimit: '"rpm";r=59;t=60, "parallel";r=3',
      'ratelimit-policy': '"rpm";q=60, "parallel";q=4;qu="concurrent-requests"',
    })
    expect(parseList(values!.ratelimit)).toHaveLength(2)
  })

  it('leaves spend and credits out unless asked', () => {
    const spend = state({ policy: 'monthly', kind: 'spend', limit: 10_000_000_000, remaining: 9_000_000_000 })
    expect(rateLimitHeaders([spend], { now })).toBeUndefined()
    expect(rateLimitHeaders([spend], { now, spend: true })?.['ratelimit-policy']).toBe(
      '"monthly";q=10000000000;qu="nano-usd"',
    )
  })

  it('names a policy by its scope when two scopes share the name', () => {
    const values = rateLimitHeaders([state({}), state({ scope: 'user:u9', limit: 10, remaining: 2 })], {
      now,
    })
    expect(values?.ratelimit).toBe('"tenant-rpm";r=59;t=60, "user-rpm";r=2;t=60')
  })

  it('skips policies without a limit and escapes policy names', () => {
    expect(
      rateLimitHeaders([state({ kind: 'spend', limit: null, remaining: null })], { now, spend: true }),
    ).toBe(undefined)
    expect(rateLimitHeaders([state({ policy: 'say "hi"' })], { now })?.ratelimit).toBe(
      '"say \\"hi\\"";r=59;t=60',
    )
  })

  it('never shows a negative reset or remaining', () => {
    expect(rateLimitHeaders([state({ remaining: 0, resetAt: now - 5000 })], { now })?.ratelimit).toBe(
      '"rpm";r=0;t=0',
    )
  })
})
