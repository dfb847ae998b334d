import type { CreditsRule, ScopeKey, StoreEvent } from '../store'
import { copyHolds, type Held, HoldSet } from './hold-set'
import type { Common } from './state'

/** Prepaid credits granted at once, spent oldest first. */
export interface Grant {
  amount: number
  expiresAt: number | null
}

/**
 * A credits balance: grants, debt past zero, and the auto-recharge bookkeeping.
 *
 * @example
 * ```ts
 * const state: CreditsState = freshCredits('org:o1', 'credits')
 * ```
 */
export interface CreditsState extends Common, Held {
  kind: 'credits'
  grants: Grant[]
  debt: number
  consumed: number
  lowNotified: boolean
  pending: { key: string; amountNanos: number } | null
  recharges: { periodId: string; count: number } | null
}

/** No balance, no debt. */
export function freshCredits(scope: string, policy: string): CreditsState {
  return {
    kind: 'credits',
    grants: [],
    debt: 0,
    consumed: 0,
    holds: new HoldSet(),
    held: 0,
    lowNotified: false,
    pending: null,
    recharges: null,
    minLease: Number.POSITIVE_INFINITY,
    scope,
    policy,
    period: null,
    sibling: null,
    prev: null,
    next: null,
    stamp: 0,
    kept: false,
    gone: false,
  }
}

/** A copy with its own grants and holds. */
export function cloneCredits(state: CreditsState): CreditsState {
  return { ...state, grants: state.grants.map((g) => ({ ...g })), holds: copyHolds(state.holds) }
}

/** Drop the grants that expired by `at`. */
export function applyCreditsTime(state: CreditsState, at: number): void {
  if (state.grants.some((g) => g.expiresAt !== null && g.expiresAt <= at)) {
    state.grants = state.grants.filter((g) => g.expiresAt === null || g.expiresAt > at)
  }
}

/** The sum of the grants. */
export function balanceOf(state: CreditsState): number {
  let sum = 0
  for (const g of state.grants) sum += g.amount
  return sum
}

/** The balance less the debt. */
export function netOf(state: CreditsState): number {
  return balanceOf(state) - state.debt
}

/** Spend `amount` from the oldest grants, the rest as debt. */
export function consume(state: CreditsState, amount: number): void {
  let left = amount
  for (const g of state.grants) {
    if (left === 0) break
    const take = Math.min(g.amount, left)
    g.amount -= take
    left -= take
  }
  state.grants = state.grants.filter((g) => g.amount > 0)
  state.debt += left
  state.consumed += amount
}

/** Add `amount`: it pays the debt first, the rest becomes a grant. */
export function grant(state: CreditsState, amount: number, expiresAt: number | null): void {
  const paid = Math.min(state.debt, amount)
  state.debt -= paid
  if (amount - paid > 0) state.grants.push({ amount: amount - paid, expiresAt })
}

/** Push `credits-low` and `recharge-due` events the balance now calls for. */
export function creditEvents(
  state: CreditsState,
  rule: CreditsRule,
  scope: ScopeKey,
  policy: string,
  events: StoreEvent[],
): void {
  const net = netOf(state)
  if (rule.lowBalanceNanos !== undefined) {
    if (net < rule.lowBalanceNanos) {
      if (!state.lowNotified) {
        state.lowNotified = true
        events.push({ type: 'credits-low', scope, policy, balanceNanos: net })
      }
    } else state.lowNotified = false
  }
  const auto = rule.autoRecharge
  if (!auto) return
  if (!state.recharges || state.recharges.periodId !== auto.period.id) {
    state.recharges = { periodId: auto.period.id, count: 0 }
  }
  if (net < auto.thresholdNanos && state.pending === null && state.recharges.count < auto.maxPerPeriod) {
    state.recharges.count += 1
    const key = `recharge:${scope}:${policy}:${auto.period.id}:${state.recharges.count}`
    state.pending = { key, amountNanos: auto.amountNanos }
    events.push({ type: 'recharge-due', scope, policy, amountNanos: auto.amountNanos, idempotencyKey: key })
  }
}

/** What a new reservation may still take from the balance, after `taken` already held by it. */
export function creditsRemaining(state: CreditsState, taken: number): number {
  return Math.max(0, netOf(state) - state.held - taken)
}
