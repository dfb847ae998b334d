import { describe, expect, it } from 'vitest'
import type { ChargeState } from '../limits/store'
import { rateLimitHeaders } from './rate-limit-headers'

const now = Date.UTC(2026, 10, 28, 12, 0, 0)

describe('rateLimitHeaders', () => {
  it('names each limited policy by scope and policy, with quota, remaining and seconds to reset', () => {
    const states: ChargeState[] = [
      {
        scope: 'user:u9',
        policy: 'rpm',
        kind: 'requests',
        limit: 60,
        used: 10,
        held: 1,
        remaining: 49,
        resetAt: now + 30_500,
      },
      {
        scope: 'tenant:t1',
        policy: 'monthly',
        kind: 'spend',
        limit: 5_000,
        used: 1_000,
        held: 0,
        remaining: 4_000,
        resetAt: null,
      },
    ]
    expect(rateLimitHeaders(states, now)).toEqual({
      'ratelimit-policy': '"user:u9/rpm";q=60;qu="requests", "tenant:t1/monthly";q=5000',
      ratelimit: '"user:u9/rpm";r=49;t=31, "tenant:t1/monthly";r=4000',
    })
  })

  it('leaves out unlimited states and answers undefined when nothing is limited', () => {
    const states: ChargeState[] = [
      {
        scope: 'global',
        policy: 'watch',
        kind: 'spend',
        limit: null,
        used: 5,
        held: 0,
        remaining: null,
        resetAt: now,
      },
    ]
    expect(rateLimitHeaders(states, now)).toBeUndefined()
  })
})
