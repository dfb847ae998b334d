/** Options for {@link circuitBreaker}. */
export interface CircuitBreakerOptions {
  /**
   * Consecutive failures that open the circuit.
   * @default 3
   */
  failureThreshold?: number
  /**
   * How long the circuit stays open before one trial call is let through.
   * @default 1000
   */
  cooldownMs?: number
  /** Epoch ms; injected in tests. @default Date.now */
  now?: () => number
}

/** The state a breaker reports when it changes. */
export type CircuitState = 'closed' | 'open' | 'half-open'

/** A circuit breaker: see {@link circuitBreaker}. */
export interface CircuitBreaker {
  /** Whether a call may go to the backend now (closed, or the one trial call of half-open). */
  allow(): boolean
  /** Report the outcome of a call that {@link CircuitBreaker.allow} let through. */
  success(): void
  failure(): void
  /** The call let through never reached the backend (invalid input): count nothing. */
  abandon(): void
  readonly state: CircuitState
}

/**
 * A consecutive-failure circuit breaker: after `failureThreshold` failures in a row it opens and
 * refuses calls for `cooldownMs`, then lets a single trial call through; success closes it, failure
 * opens it again. So a dead backend costs one call per cooldown instead of one per request.
 *
 * @example
 * ```ts
 * const breaker = circuitBreaker({ failureThreshold: 3, cooldownMs: 1000, onChange: console.log })
 * if (breaker.allow()) {
 *   try { await call(); breaker.success() } catch { breaker.failure() }
 * }
 * ```
 */
export function circuitBreaker({
  failureThreshold = 3,
  cooldownMs = 1000,
  now = Date.now,
  onChange,
}: CircuitBreakerOptions & {
  onChange?: (state: CircuitState, previous: CircuitState) => void
} = {}): CircuitBreaker {
  let state: CircuitState = 'closed'
  let failures = 0
  let openedAt = 0
  let trialInFlight = false
  const move = (next: CircuitState) => {
    if (next === state) return
    const previous = state
    state = next
    onChange?.(next, previous)
  }
  return {
    get state() {
      return state
    },
    allow() {
      if (state === 'closed') return true
      if (state === 'open' && now() - openedAt >= cooldownMs) move('half-open')
      if (state === 'half-open' && !trialInFlight) {
        trialInFlight = true
        return true
      }
      return false
    },
    success() {
      failures = 0
      trialInFlight = false
      move('closed')
    },
    abandon() {
      trialInFlight = false
    },
    failure() {
      failures++
      trialInFlight = false
      if (state === 'half-open' || failures >= failureThreshold) {
        openedAt = now()
        move('open')
      }
    },
  }
}
