import type { KeyguardError } from '../errors/keyguard-error'
import type { UpstreamRateLimits } from '../errors/parse-rate-limit-headers'
import type { Cost } from '../estimate/cost-of-usage'
import type { RequestEstimate } from '../estimate/estimate-request'
import type { LimitEvent } from '../limits/limit-event'
import type { RequestScope } from '../limits/limit-policy'
import type { ChargeState } from '../limits/store'
import type { Logger } from '../log/logger'

/** A call finished and its hold was replaced by what it really cost. */
export interface SettleEvent {
  type: 'settle'
  scope: RequestScope
  reservationId: string
  endpoint: string
  /** The model the request asked for; `undefined` for endpoints keyguard does not price. */
  model: string | undefined
  estimate: RequestEstimate | null
  /** The priced usage; `null` when no usage arrived or the endpoint is not priced. */
  cost: Cost | null
  /** What was charged, in nano-USD. */
  costNanos: number
  /** `true` when usage never arrived (aborted or broken stream, missing usage) and the charge was estimated. */
  estimated: boolean
  /**
   * How the call ended: its body read to the end, cancelled or broken; cut by `output.default.enforce: 'stream-cut'` at its output
   * bound; abandoned (its stream not read for a minute); an upstream error; refused locally (nothing sent).
   */
  ending: 'complete' | 'cancelled' | 'errored' | 'cut' | 'abandoned' | 'upstream-error' | 'refused'
  /** Limit states after the settle (empty when no limit applied). */
  states: ChargeState[]
}

/** A request was refused locally: nothing was sent upstream. */
export interface DeniedEvent {
  type: 'denied'
  scope: RequestScope
  endpoint: string
  error: KeyguardError
}

/** OpenAI answered with an error; it was classified (and any echoed key scrubbed). */
export interface UpstreamErrorEvent {
  type: 'upstream-error'
  scope: RequestScope
  endpoint: string
  error: KeyguardError
}

/** OpenAI's `x-ratelimit-*` headers, seen on a response. */
export interface UpstreamRateLimitsEvent {
  type: 'upstream-rate-limits'
  /** The name of the key the call used (`default` for `key`), never the key. */
  keyName: string
  /** The key's fingerprint, such as `sk-proj…Wq8A`. */
  fingerprint: string
  limits: UpstreamRateLimits
}

/** OpenAI rejected a key for billing or auth: its calls fail locally until a probe succeeds. */
export interface CircuitOpenEvent {
  type: 'circuit-open'
  keyName: string
  fingerprint: string
  error: KeyguardError
  /** When one probe call will be let through, in epoch ms. */
  probeAt: number
}

/** A probe call with a key succeeded: its calls go upstream again. */
export interface CircuitClosedEvent {
  type: 'circuit-closed'
  keyName: string
  fingerprint: string
}

/** A request's output bound was lowered to what the remaining budget can pay for (`output.onInsufficientBudget: 'clamp'`). */
export interface ClampedEvent {
  type: 'clamped'
  scope: RequestScope
  endpoint: string
  previousMaxOutputTokens: number
  maxOutputTokens: number
}

/**
 * A stream passed the output bound its hold covers and was cut (`output.default.enforce: 'stream-cut'`): the client got an error
 * event with `error`, upstream was cancelled, and a `settle` with `ending: 'cut'` follows.
 */
export interface StreamCutEvent {
  type: 'stream-cut'
  scope: RequestScope
  endpoint: string
  reservationId: string
  model: string
  /** The output bound the hold covers (× `n`). */
  maxOutputTokens: number
  /** Output tokens counted when the stream was cut (more than `maxOutputTokens`). */
  outputTokens: number
  /** `budget.hard_limit`: what the client's stream ended with. */
  error: KeyguardError
}

/**
 * Every event a {@link Keyguard} emits through `on`.
 *
 * @example
 * ```ts
 * guard.on('soft-limit', (event) => notify(`${event.scope} passed ${formatUsd(event.thresholdNanos)}`))
 * guard.on('settle', (event) => log.info({ cost: event.costNanos, estimated: event.estimated }))
 * ```
 */
export type KeyguardEvent =
  | LimitEvent
  | SettleEvent
  | DeniedEvent
  | UpstreamErrorEvent
  | UpstreamRateLimitsEvent
  | CircuitOpenEvent
  | CircuitClosedEvent
  | ClampedEvent
  | StreamCutEvent

export type KeyguardEventType = KeyguardEvent['type']

/** The listener for one event name. */
export type KeyguardListener<T extends KeyguardEventType> = (
  event: Extract<KeyguardEvent, { type: T }>,
) => void

/** @internal A tiny typed emitter: a throwing listener is logged and never breaks a request. */
export function createEmitter(logger: Logger) {
  const listeners = new Map<string, Set<(event: KeyguardEvent) => void>>()
  return {
    on<T extends KeyguardEventType>(type: T, listener: KeyguardListener<T>): () => void {
      let set = listeners.get(type)
      if (!set) {
        set = new Set()
        listeners.set(type, set)
      }
      const entry = listener as (event: KeyguardEvent) => void
      set.add(entry)
      return () => {
        set.delete(entry)
      }
    },
    emit(event: KeyguardEvent): void {
      const set = listeners.get(event.type)
      if (!set) return
      for (const listener of set) {
        try {
          listener(event)
        } catch (error) {
          logger.error(`keyguard: a '${event.type}' listener threw`, {
            error: error instanceof Error ? error.message : String(error),
          })
        }
      }
    },
  }
}
