import type { KeyguardErrorCode } from '../errors/codes'
import type { KeyguardError } from '../errors/keyguard-error'
import { type CircuitBreaker, circuitBreaker } from '../resilience/circuit-breaker'

/**
 * The upstream errors that mean the key itself is unusable, for every caller and endpoint, until the
 * operator acts: only these open a key's circuit. A refusal of one call (a missing scope, a model
 * or endpoint the project may not use, the IP or region of one egress, an organization or project
 * header the request sent) ends that call alone; other tenants' calls keep going upstream. See the
 * table in the core README.
 *
 * @example
 * ```ts
 * keyWideErrorCodes.has('quota.insufficient') // true
 * keyWideErrorCodes.has('auth.permission_denied') // false
 * ```
 */
export const keyWideErrorCodes: ReadonlySet<KeyguardErrorCode> = new Set<KeyguardErrorCode>([
  'auth.invalid_key',
  'auth.no_organization',
  'quota.insufficient',
  'quota.spend_limit',
])

/** What an answer did to a key's circuit: opened it (until `probeAt`), closed it, or nothing. */
export type CircuitChange = { type: 'opened'; probeAt: number } | { type: 'closed' } | undefined

/** One call let through a key's circuit: report how it ended. */
export interface CircuitPass {
  /**
   * OpenAI answered: `undefined` for a success, else the classified error. A success closes the
   * circuit when this call was its probe; a key-wide error opens it.
   */
  answered(error: KeyguardError | undefined): CircuitChange
  /** The call ended with no word on the key (refused locally, never sent, network failure). */
  abandon(): void
}

/** The circuits of a guard's keys; see {@link keyCircuits}. */
export interface KeyCircuits {
  /**
   * Before a call with `keyName`: the error to answer with while its circuit is open (and while
   * another call probes it), else a pass for the call, which is the probe when the cooldown is over.
   */
  enter(keyName: string): { open: KeyguardError } | CircuitPass
}

/**
 * A circuit breaker per key ({@link circuitBreaker}, opened by one failure). After OpenAI answers with
 * an error of {@link keyWideErrorCodes}, calls with that key are refused locally with that error for
 * `cooldownMs`; then one call goes through as a probe (the others are still refused while it runs). A
 * success closes the circuit; another key-wide error opens it for a new cooldown; any other ending
 * lets the next call probe.
 *
 * @param options.cooldownMs - how long a circuit stays open before a probe; `null`: never open one.
 * @param options.now - the clock.
 * @example
 * ```ts
 * const circuits = keyCircuits({ cooldownMs: 30_000, now: Date.now })
 * const pass = circuits.enter('default')
 * if ('open' in pass) throw pass.open
 * const change = pass.answered(error) // { type: 'opened', probeAt } after a key-wide error
 * ```
 */
export function keyCircuits({
  cooldownMs,
  now,
}: {
  cooldownMs: number | null
  now: () => number
}): KeyCircuits {
  if (cooldownMs === null) return { enter: () => closedPass }
  const circuits = new Map<string, { breaker: CircuitBreaker; error?: KeyguardError }>()
  return {
    enter(keyName) {
      let circuit = circuits.get(keyName)
      if (circuit === undefined) {
        circuit = { breaker: circuitBreaker({ cooldownMs, now }) }
        circuits.set(keyName, circuit)
      }
      const { breaker } = circuit
      const call = breaker.enter()
      if (call === undefined) return { open: circuit.error as KeyguardError }
      const owner = circuit
      return {
        answered(error) {
          if (error !== undefined && keyWideErrorCodes.has(error.code)) {
            owner.error = error
            call.failure()
            return { type: 'opened', probeAt: breaker.trialAt }
          }
          if (error !== undefined) {
            call.abandon()
            return undefined
          }
          const before = breaker.state
          call.success()
          return before !== 'closed' && breaker.state === 'closed' ? { type: 'closed' } : undefined
        },
        abandon: () => call.abandon(),
      }
    },
  }
}

const closedPass: CircuitPass = { answered: () => undefined, abandon: () => {} }
