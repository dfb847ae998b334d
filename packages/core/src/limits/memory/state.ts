import type { LimitRule, ScopeKey } from '../store'
import { type ConcurrencyState, freshConcurrency } from './concurrency-state'
import { applyCreditsTime, type CreditsState, cloneCredits, consume, freshCredits } from './credits-state'
import { copyHolds, type Hold, type HoldOwner, type HoldSet, holdIn, takeHold } from './hold-set'
import {
  addEntry,
  applyRequestsTime,
  cloneRequests,
  endEntries,
  freshRequests,
  type RequestsHold,
  type RequestsState,
} from './requests-state'
import { freshSpend, type SpendState } from './spend-state'
import { applyTokensTime, freshTokens, refund, type TokensState } from './tokens-state'

/** What every kind of state keeps besides its own counts. */
export interface Common {
  /**
   * Where the state sits in the table: its scope, its policy and (spend only) the id of its period.
   * The table finds a state by its scope, then among that scope's few states, so no key string is built.
   */
  scope: string
  policy: string
  period: string | null
  /** The next state of the same scope in the table (null: the last one). */
  sibling: State | null
  adjustKeys?: Map<string, number>
  /** When the state was last used, in the table's count of uses: protects what an operation loaded. */
  stamp: number
  /** No hold in the state has a lease ending before this (a lower bound: skips the scan for expired holds). */
  minLease: number
  /** Its neighbours in the one list of the state table it is in (null: in none). */
  prev: Common | null
  next: Common | null
  /** Counted against `maxMoneyStates`: a spend or credits state that holds or held money. */
  kept: boolean
  /** Set once the state has left the map (evicted or rewritten as another kind). */
  gone: boolean
}

/**
 * One `(scope, policy)`'s state in the memory store, by the kind of its rule.
 *
 * @example
 * ```ts
 * const state: State = fresh({ kind: 'concurrency', limit: 2 }, Date.now(), 'user:u1', 'parallel')
 * ```
 */
export type State = RequestsState | TokensState | SpendState | ConcurrencyState | CreditsState

/**
 * The period part of a charge's place in the table: a spend state is kept per `(scope, policy, period)`,
 * the others per `(scope, policy)` (null).
 */
export function periodOf(rule: LimitRule): string | null {
  return rule.kind === 'spend' ? rule.period.id : null
}

/** A new state for `rule` at `(scope, policy)`: nothing used, nothing held. */
export function fresh(rule: LimitRule, at: number, scope: ScopeKey, policy: string): State {
  switch (rule.kind) {
    case 'requests':
      return freshRequests(scope, policy)
    case 'tokens':
      return freshTokens(rule, at, scope, policy)
    case 'spend':
      return freshSpend(rule, scope, policy)
    case 'concurrency':
      return freshConcurrency(scope, policy)
    case 'credits':
      return freshCredits(scope, policy)
  }
}

/** A deep copy, to reclaim expired holds in without writing. */
export function clone(state: State): State {
  switch (state.kind) {
    case 'requests':
      return cloneRequests(state)
    case 'tokens':
      return { ...state, holds: copyHolds(state.holds) }
    case 'spend':
      return { ...state, fired: [...state.fired], holds: copyHolds(state.holds) }
    case 'concurrency':
      return { ...state, holds: copyHolds(state.holds) }
    case 'credits':
      return cloneCredits(state)
  }
}

/** Bring the state to `at`: slide the window, refill the bucket, expire grants. */
export function applyTime(state: State, rule: LimitRule, at: number): void {
  if (state.kind === 'requests' && rule.kind === 'requests') applyRequestsTime(state, rule, at)
  else if (state.kind === 'tokens' && rule.kind === 'tokens') applyTokensTime(state, rule, at)
  else if (state.kind === 'credits') applyCreditsTime(state, at)
}

/** Whether any reservation holds something in the state. */
export function hasHolds(state: State): boolean {
  return state.kind === 'requests' ? state.pending.size > 0 : state.holds.size > 0
}

/** No ids: what {@link expiredHolds} answers when nothing expired, without allocating. */
export const none: readonly string[] = /* @__PURE__ */ Object.freeze([])

/** Ids of holds whose lease has ended; also tightens `minLease` to the earliest lease of any hold. */
export function expiredHolds(state: State, at: number): readonly string[] {
  let ids: string[] | undefined
  let min = Number.POSITIVE_INFINITY
  const holds: HoldSet<Hold> | HoldSet<RequestsHold> = state.kind === 'requests' ? state.pending : state.holds
  const size = holds.size
  for (let index = 0; index < size; index++) {
    const hold = holds.at(index)
    const leaseEnd = hold.owner.leaseEnd
    if (leaseEnd < min) min = leaseEnd
    if (leaseEnd <= at) {
      if (ids) ids.push(hold.owner.id)
      else ids = [hold.owner.id]
    }
  }
  state.minLease = min
  return ids ?? none
}

/** Drop the hold of `id` (a reservation no longer live) without charging or refunding it. */
export function removeHold(state: State, id: string): void {
  if (state.kind === 'requests') endEntries(state, id, false, null)
  else takeHold(state, id, null)
}

/**
 * Hold `amount` for the reservation `owner` (its record: id and lease end); `prev` is the hold an
 * earlier charge of the same reservation made in this state, if any, which this one joins. Answers the
 * hold (requests: the first entry).
 */
export function addHold(
  state: State,
  owner: HoldOwner,
  amount: number,
  at: number,
  prev: Hold | RequestsHold | null,
): Hold | RequestsHold {
  if (owner.leaseEnd < state.minLease) state.minLease = owner.leaseEnd
  if (state.kind === 'requests') return addEntry(state, owner, amount, at, prev as RequestsHold | null)
  if (state.kind === 'tokens') state.level -= amount
  return holdIn(state, owner, amount, prev as Hold | null)
}

/**
 * End one reservation's hold in a state. `reclaim` ends it as spent (spend, credits) or released
 * (the rest); `settle` charges `actual`. Answers whether there was a hold to end.
 */
export function endHold(
  state: State,
  id: string,
  rule: LimitRule,
  how: 'reclaim' | 'release' | 'settle',
  actual: number,
  hint: Hold | RequestsHold | null,
): boolean {
  if (state.kind === 'requests') return endEntries(state, id, how === 'settle', hint as RequestsHold | null)
  const hold = takeHold(state, id, hint as Hold | null)
  if (!hold) return false
  switch (state.kind) {
    case 'tokens':
      refund(state, rule, how === 'settle' ? hold.amount - actual : hold.amount)
      break
    case 'spend':
      if (how === 'settle') state.spent += actual
      else if (how === 'reclaim') state.spent += hold.amount
      break
    case 'credits':
      if (how === 'settle') consume(state, actual)
      else if (how === 'reclaim') consume(state, hold.amount)
      break
    case 'concurrency':
      break
  }
  return true
}
