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

/** How many entries of {@link Reservation.slots} one charge takes: scope, policy, rule, hold, state. */
export const SLOT = 5

/**
 * The record of one `reserve`, live until settled, released or expired, then remembered a while. Two
 * objects however many charges: `slots` keeps, for charge `i` from `i * SLOT`, its scope, policy and
 * rule (what a replay or a finished settle describes), the hold it made (requests: its reservation's
 * hold over its entries, to end it without a lookup) and the state it was held in (while that state is
 * not `gone`, the table's state for its scope and policy). Hold and state are null once the record has
 * finished, so a remembered record keeps no hold or evicted state alive. Read it through the accessors
 * below.
 *
 * @example
 * ```ts
 * const record: Reservation = { id: 'call-1', status: 'live', leaseEnd, finishedAt: at, slots: [] }
 * ```
 */
export interface Reservation {
  id: string
  status: 'live' | 'settled' | 'released' | 'expired'
  leaseEnd: number
  finishedAt: number
  slots: unknown[]
}

/** How many charges the record holds. */
export const chargeCount = (record: Reservation): number => record.slots.length / SLOT
export const scopeAt = (record: Reservation, i: number): ScopeKey => record.slots[i * SLOT] as ScopeKey
export const policyAt = (record: Reservation, i: number): string => record.slots[i * SLOT + 1] as string
export const ruleAt = (record: Reservation, i: number): LimitRule => record.slots[i * SLOT + 2] as LimitRule
export const holdAt = (record: Reservation, i: number): Hold | RequestsHold | null =>
  record.slots[i * SLOT + 3] as Hold | RequestsHold | null
export const stateAt = (record: Reservation, i: number): State | null =>
  record.slots[i * SLOT + 4] as State | null

/** Forget charge `i`'s hold and state: its hold has ended. */
export function letGo(record: Reservation, i: number): void {
  record.slots[i * SLOT + 3] = null
  record.slots[i * SLOT + 4] = null
}

/** Soft-limit and credits events after money moved. */
export function afterMoney(
  state: State,
  rule: LimitRule,
  scope: ScopeKey,
  policy: string,
  events: Events,
): void {
  if (state.kind === 'spend' && rule.kind === 'spend') softCheck(state, rule, scope, policy, events ?? [])
  if (state.kind === 'credits' && rule.kind === 'credits')
    creditEvents(state, rule, scope, policy, events ?? [])
}
