import { describe, expect, it } from 'vitest'
import { type CircuitCall, type CircuitState, circuitBreaker } from './circuit-breaker'

function setup(failureThreshold: number, cooldownMs: number) {
  let at = 0
  const changes: [CircuitState, CircuitState][] = []
  const breaker = circuitBreaker({
    failureThreshold,
    cooldownMs,
    now: () => at,
    onChange: (state, previous) => changes.push([previous, state]),
  })
  const enter = (): CircuitCall => {
    const call = breaker.enter()
    if (!call) throw new Error(`the circuit refused a call (${breaker.state})`)
    return call
  }
  return { breaker, enter, changes, advance: (ms: number) => (at += ms) }
}

describe('circuitBreaker', () => {
  it('stays closed below the threshold, and a success resets the count of failures in a row', () => {
    const { breaker, enter, changes } = setup(3, 100)
    enter().failure()
    enter().failure()
    enter().success()
    enter().failure()
    enter().failure()
    expect(breaker.state).toBe('closed')
    expect(changes).toEqual([])
  })

  it('opens after the threshold and refuses every call until the cooldown ends', () => {
    const { breaker, enter, changes, advance } = setup(2, 100)
    advance(1000)
    enter().failure()
    enter().failure()
    expect(breaker.state).toBe('open')
    expect(breaker.trialAt).toBe(1100)
    advance(99)
    expect(breaker.enter()).toBeUndefined()
    expect(breaker.state).toBe('open')
    expect(changes).toEqual([['closed', 'open']])
  })

  it('turns half-open at the end of the cooldown and lets exactly one trial call through', () => {
    const { breaker, enter, changes, advance } = setup(1, 100)
    enter().failure()
    advance(100)
    const trial = enter()
    expect(breaker.state).toBe('half-open')
    expect(breaker.enter()).toBeUndefined()
    trial.success()
    expect(breaker.state).toBe('closed')
    expect(changes).toEqual([
      ['closed', 'open'],
      ['open', 'half-open'],
      ['half-open', 'closed'],
    ])
    expect(breaker.enter()).toBeDefined()
  })

  it('reopens for a new cooldown when the trial fails', () => {
    const { breaker, enter, advance } = setup(3, 50)
    for (let i = 0; i < 3; i++) enter().failure()
    advance(50)
    enter().failure()
    expect(breaker.state).toBe('open')
    expect(breaker.trialAt).toBe(100)
    advance(49)
    expect(breaker.enter()).toBeUndefined()
    advance(1)
    expect(breaker.enter()).toBeDefined()
  })

  it('frees the trial slot when the trial never reached the backend', () => {
    const { breaker, enter, advance } = setup(1, 10)
    enter().failure()
    advance(10)
    enter().abandon()
    expect(breaker.state).toBe('half-open')
    const next = enter()
    next.success()
    expect(breaker.state).toBe('closed')
  })

  it('lets no call sent before the circuit opened close it; a failure of one reopens it', () => {
    const { breaker, enter, advance } = setup(1, 100)
    const early = enter()
    const late = enter()
    enter().failure()
    early.success()
    expect(breaker.state).toBe('open')
    advance(100)
    const trial = enter()
    late.failure()
    // the trial of the circuit that late's failure replaced decides nothing
    expect(breaker.state).toBe('open')
    expect(breaker.trialAt).toBe(200)
    trial.success()
    expect(breaker.state).toBe('open')
  })

  it('counts each call once, however often it reports', () => {
    const { breaker, enter } = setup(2, 100)
    const call = enter()
    call.failure()
    call.failure()
    expect(breaker.state).toBe('closed')
  })
})
