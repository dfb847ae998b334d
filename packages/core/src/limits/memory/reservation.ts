import type { LimitRule, ScopeKey, StoreEvent } from '../store'
import { creditEvents } from './credits-state'
import type { Hold } from './hold-set'
import type { RequestsHold } from './requests-state'
import { softCheck } from './spend-state'
import type { State } from './state'

/** How long a finished reservation is remembered, for idempotent replays and settle answers. */
export const RETAIN_MS = 600_000
/** How long an `adjust` idempotency key is remembered. */
export const ADJUST_KEY_MS = 7 * 24 * 3_600_000

/** Where events go; null: nobody listens (release, adjust). */
export type Events = StoreEvent[] | null

/** One charge of a reservation, as its record keeps it. */
export interface RecordCharge {
  scope: ScopeKey
  policy: string
  rule: LimitRule
  amount: number
  /** The hold this charge made (requests: its reservation's hold over its entries), to end it without a lookup. */
  hold: Hold | RequestsHold | null
  /**
   * The state it was held in: while that state is not `gone`, it is the table's state for its scope and policy. Null
   * once the record has finished, so a remembered record keeps no evicted state alive.
   */
  state: State | null
}

/**
 * The record of one `reserve`, live until settled, released or expired, then remembered a while.
 *
 * @example
 * ```ts
 * const record: Reservation = { id: 'call-1', status: 'live', leaseEnd, finishedAt: at, charges: [] }
 * ```
 */
export interface Reservation {
  id: string
  status: 'live' | 'settled' | 'released' | 'expired'
  leaseEnd: number
  finishedAt: number
  charges: RecordCharge[]
}

/** Soft-limit and credits events after money moved. */
export function afterMoney(state: State, charge: RecordCharge, events: Events): void {
  const sink = events ?? []
  if (state.kind === 'spend' && charge.rule.kind === 'spend')
    softCheck(state, charge.rule, charge.scope, charge.policy, sink)
  if (state.kind === 'credits' && charge.rule.kind === 'credits')
    creditEvents(state, charge.rule, charge.scope, charge.policy, sink)
}
