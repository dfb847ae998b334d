import type { Denial, ScopeKey, StoreEvent } from './store'

/**
 * What the limits report to the app: a soft threshold crossed, a hard limit hit, credits low, a
 * recharge requested / succeeded / failed, a lease expired. Amounts are integer nano-USD.
 *
 * @example
 * ```ts
 * const onLimit = (event: LimitEvent) => {
 *   if (event.type === 'soft-limit') notify(event.scope, event.usedNanos)
 * }
 * ```
 */
export type LimitEvent =
  | Extract<StoreEvent, { type: 'soft-limit' }>
  | ({ type: 'hard-limit' } & Denial)
  | Extract<StoreEvent, { type: 'credits-low' }>
  | {
      type: 'recharge-requested'
      scope: ScopeKey
      policy: string
      amountNanos: number
      idempotencyKey: string
    }
  | {
      type: 'recharge-succeeded'
      scope: ScopeKey
      policy: string
      amountNanos: number
      idempotencyKey: string
    }
  | {
      type: 'recharge-failed'
      scope: ScopeKey
      policy: string
      amountNanos: number
      idempotencyKey: string
      error: unknown
    }
  | Extract<StoreEvent, { type: 'lease-expired' }>
