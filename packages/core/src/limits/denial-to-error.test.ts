import { describe, expect, it } from 'vitest'
import { denialToError } from './denial-to-error'
import type { Denial } from './store'

const denial = (kind: Denial['kind'], retryAfterMs: number | null): Denial => ({
  scope: 'tenant:t1',
  policy: 'p',
  kind,
  limit: 2,
  remaining: 0,
  requested: 1,
  retryAfterMs,
})

describe('denialToError', () => {
  it('hints a short retry for concurrency: a slot frees when any running call ends, not when its lease does', () => {
    const error = denialToError(denial('concurrency', 600_000))
    expect(error).toMatchObject({ code: 'rate.concurrency', retryable: true, retryAfterMs: 1000 })
    // a hold whose lease ends sooner than the hint: that is sooner still
    expect(denialToError(denial('concurrency', 40)).retryAfterMs).toBe(40)
  })

  it('keeps the earliest moment for windows and periods, retryable only within a minute', () => {
    expect(denialToError(denial('requests', 1_500))).toMatchObject({ retryAfterMs: 1_500, retryable: true })
    expect(denialToError(denial('tokens', 250))).toMatchObject({ retryAfterMs: 250, retryable: true })
    const month = denialToError(denial('spend', 216_000_000))
    expect(month).toMatchObject({ code: 'budget.hard_limit', retryAfterMs: 216_000_000, retryable: false })
  })

  it('hints a short wait for a budget that running calls hold, not the next period', () => {
    // limit 2, nothing settled yet: the request fits as soon as a running call settles below its hold
    const held = denialToError({ ...denial('spend', 216_000_000), used: 0 })
    expect(held).toMatchObject({ code: 'budget.hard_limit', retryAfterMs: 1000, retryable: false })
    // spent already: only the next period helps
    const spent = denialToError({ ...denial('spend', 216_000_000), used: 2 })
    expect(spent.retryAfterMs).toBe(216_000_000)
  })

  it('never tells a client to retry a money refusal, even one that resets within a minute', () => {
    const soon = denialToError(denial('spend', 30_000))
    expect(soon).toMatchObject({ code: 'budget.hard_limit', retryAfterMs: 30_000, retryable: false })
  })

  it('is not retryable when waiting does not help', () => {
    for (const kind of ['spend', 'requests', 'tokens', 'concurrency', 'credits'] as const)
      expect(denialToError(denial(kind, null))).toMatchObject({ retryable: false, retryAfterMs: undefined })
  })
})
