/** Where a circuit stands: calls go through (`closed`), are refused (`open`), or one trial call decides (`half-open`). */
export type CircuitState = 'closed' | 'open' | 'half-open'

/** Options for {@link circuitBreaker}. */
export interface CircuitBreakerOptions {
  /** Failures in a row that open the circuit. @default 1 */
  failureThreshold?: number
  /** How long the circuit stays open before one trial call is let through. */
  cooldownMs: number
  /** The clock, in ms. @default Date.now */
  now?: () => number
  /** Told of every change of state. */
  onChange?: (state: CircuitState, previous: CircuitState) => void
}

/** One call let through a circuit: report how it ended, once (later reports are ignored). */
export interface CircuitCall {
  /** The backend answered: a trial call closes the circuit; any call resets the failure count while closed. */
  success(): void
  /** The backend failed: counts toward the threshold; a failed trial opens the circuit again. */
  failure(): void
  /** The call says nothing about the backend (invalid input, never sent): a trial's slot is freed. */
  abandon(): void
}

/** A circuit breaker: see {@link circuitBreaker}. */
export interface CircuitBreaker {
  readonly state: CircuitState
  /** When an open circuit lets its next trial call through (the clock's ms). */
  readonly trialAt: number
  /** A call may go to the backend now: its {@link CircuitCall}; `undefined` when the circuit refuses it. */
  enter(): CircuitCall | undefined
}

/**
 * A consecutive-failure circuit breaker: after `failureThreshold` failures in a row it opens and
 * refuses calls for `cooldownMs`, then lets a single trial call through (`half-open`); the trial's
 * success closes it, its failure opens it for a new cooldown. A dead backend costs one call per
 * cooldown instead of one per request. Calls let through before the circuit opened cannot close it:
 * only the trial decides, and a failure of any call reopens it.
 *
 * @example
 * ```ts
 * const breaker = circuitBreaker({ failureThreshold: 3, cooldownMs: 1000 })
 * const call = breaker.enter()
 * if (!call) throw new Error('circuit open')
 * try { await send(); call.success() } catch (error) { call.failure(); throw error }
 * ```
 */
export function circuitBreaker({
  failureThreshold = 1,
  cooldownMs,
  now = Date.now,
  onChange,
}: CircuitBreakerOptions): CircuitBreaker {
  let state: CircuitState = 'closed'
  let failures = 0
  let trialAt = 0
  // the trial now running, if any; a call is the trial only while it is this very object
  let trial: CircuitCall | undefined
  const move = (next: CircuitState) => {
    if (next === state) return
    const previous = state
    state = next
    onChange?.(next, previous)
  }
  const open = () => {
    trial = undefined
    trialAt = now() + cooldownMs
    move('open')
  }
  return {
    get state() {
      return state
    },
    get trialAt() {
      return trialAt
    },
    enter() {
      if (state === 'open' && now() >= trialAt) move('half-open')
      if (state === 'open' || (state === 'half-open' && trial !== undefined)) return undefined
      let ended = false
      const call: CircuitCall = {
        success() {
          if (ended) return
          ended = true
          if (trial === call) {
            trial = undefined
            failures = 0
            move('closed')
          } else if (state === 'closed') failures = 0
        },
        failure() {
          if (ended) return
          ended = true
          failures++
          if (trial === call || failures >= failureThreshold) open()
        },
        abandon() {
          if (ended) return
          ended = true
          if (trial === call) trial = undefined
        },
      }
      if (state === 'half-open') trial = call
      return call
    },
  }
}
