import type { KeyguardError } from '../errors/keyguard-error'
import type { RequestEstimate } from '../estimate/estimate-request'
import type { RequestScope } from '../limits/limit-policy'
import type { ChargeState } from '../limits/store'
import type { SettleEvent } from './keyguard-events'

/** What the guard knows about one guarded call, for adapters that add headers or log costs. */
export interface KeyguardResult {
  /** The reservation id of this upstream attempt; `undefined` when no limit applied. */
  reservationId: string | undefined
  scope: RequestScope
  endpoint: string
  /** The estimate the hold was based on; `null` for endpoints keyguard does not price. */
  estimate: RequestEstimate | null
  /** Limit states right after the reservation (what `RateLimit` headers should show). */
  states: ChargeState[]
  /** Set when the call was refused locally or OpenAI answered with an error. */
  error: KeyguardError | undefined
  /**
   * Resolves once the call is settled: for JSON when the body has been read, for streams when the
   * stream ended or was cancelled. Never rejects (a failed settle is logged and resolves with the
   * estimate flagged `estimated`).
   */
  settled: Promise<SettleEvent>
}

// A non-enumerable symbol property rather than a WeakMap: one per guarded call, and a WeakMap entry is
// an ephemeron the garbage collector must trace specially. Symbol.for, so another copy of keyguard (the
// ESM and CJS builds in one process, or two versions) finds it and adapters keep their headers.
const resultKey = /* @__PURE__ */ Symbol.for('keyguard.result')

/** @internal Attach a result to a Response the guard returns. */
export function attachResult(response: Response, result: KeyguardResult): Response {
  Object.defineProperty(response, resultKey, { value: result, enumerable: false })
  return response
}

/**
 * The guard's record of a Response returned by `keyguard.fetch`: the estimate, the limit states, the
 * typed error and a promise of the settled cost. `undefined` for any other Response.
 *
 * @example
 * ```ts
 * const response = await guard.fetch('https://api.openai.com/v1/chat/completions', init)
 * const result = keyguardResult(response)
 * const text = await response.text()
 * const { costNanos } = await result!.settled
 * ```
 */
export function keyguardResult(response: Response): KeyguardResult | undefined {
  return (response as Response & { [resultKey]?: KeyguardResult })[resultKey]
}
