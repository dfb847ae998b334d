import type { KeyguardErrorCode } from '../errors/codes'
import type { KeyguardError } from '../errors/keyguard-error'

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

interface OpenCircuit {
  error: KeyguardError
  probeAt: number
  probing: boolean
}

/**
 * A circuit breaker per key. After OpenAI answers with an error of {@link keyWideErrorCodes}, calls
 * with that key are refused locally with that error for `cooldownMs`; then one call goes through as a
 * probe (the others are still refused while it runs). A success closes the circuit; another key-wide
 * error opens it for a new cooldown; any other ending lets the next call probe.
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
  const open = new Map<string, OpenCircuit>()
  return {
    enter(keyName) {
      const circuit = open.get(keyName)
      if (circuit !== undefined) {
        if (circuit.probing || now() < circuit.probeAt) return { open: circuit.error }
        circuit.probing = true
      }
      // only the call that set `probing` is the probe; it ends once, however it ends
      let probe = circuit
      const endProbe = () => {
        if (probe !== undefined && open.get(keyName) === probe) probe.probing = false
        probe = undefined
      }
      return {
        answered(error) {
          if (error !== undefined && cooldownMs !== null && keyWideErrorCodes.has(error.code)) {
            probe = undefined
            const probeAt = now() + cooldownMs
            open.set(keyName, { error, probeAt, probing: false })
            return { type: 'opened', probeAt }
          }
          if (error === undefined && probe !== undefined && open.get(keyName) === probe) {
            probe = undefined
            open.delete(keyName)
            return { type: 'closed' }
          }
          endProbe()
          return undefined
        },
        abandon: endProbe,
      }
    },
  }
}
