import { describe, expect, it } from 'vitest'
import { circuitBreaker } from './circuit-breaker'

describe('circuitBreaker', () => {
  it('opens after the threshold, lets one trial through after the cooldown, and closes on success', () => {
    let now = 0
    const changes: string[] = []
    const breaker = circuitBreaker({
      failureThreshold: 2,
      cooldownMs: 100,
      now: () => now,
      onChange: (state) => changes.push(state),
    })
    expect(breaker.allow()).toBe(true)
    breaker.failure()
    expect(breaker.state).toBe('closed')
    breaker.failure()
    expect(breaker.state).toBe('open')
    expect(breaker.allow()).toBe(false)
    now = 100
    expect(breaker.allow()).toBe(true)
    expect(breaker.allow()).toBe(false)
    breaker.success()
    expect(breaker.state).toBe('closed')
    expect(changes).toEqual(['open', 'half-open', 'closed'])
  })

  it('reopens when the trial call fails', () => {
    let now = 0
    const breaker = circuitBreaker({ failureThreshold: 1, cooldownMs: 50, now: () => now })
    breaker.failure()
    now = 50
    expect(breaker.allow()).toBe(true)
    breaker.failure()
    expect(breaker.state).toBe('open')
    now = 60
    expect(breaker.allow()).toBe(false)
  })

  it('frees the trial slot when the trial never reached the backend', () => {
    let now = 0
    const breaker = circuitBreaker({ failureThreshold: 1, cooldownMs: 10, now: () => now })
    breaker.failure()
    now = 10
    expect(breaker.allow()).toBe(true)
    breaker.abandon()
    expect(breaker.allow()).toBe(true)
  })
})
