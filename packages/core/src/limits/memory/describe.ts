import type { ChargeState, LimitRule, ScopeKey } from '../store'
import { concurrencyRemaining } from './concurrency-state'
import { balanceOf, creditsRemaining } from './credits-state'
import { firstEntryAt, requestsRemaining } from './requests-state'
import { spendRemaining } from './spend-state'
import type { State } from './state'
import { tokensRemaining } from './tokens-state'

/** What reservations hold in the state. */
function heldOf(state: State): number {
  return state.kind === 'requests' ? state.total - state.settledSum : state.held
}

/** What a new reservation may still take, after `taken` already held by this reservation. */
export function remainingOf(state: State, rule: LimitRule, taken: number): number | null {
  switch (state.kind) {
    case 'requests':
      return requestsRemaining(state, rule.kind === 'requests' ? rule.limit : 0, taken)
    case 'tokens':
      return tokensRemaining(state, taken)
    case 'spend':
      return spendRemaining(state, rule.kind === 'spend' ? rule.limitNanos : null, taken)
    case 'concurrency':
      return concurrencyRemaining(state, rule.kind === 'concurrency' ? rule.limit : 0, taken)
    case 'credits':
      return creditsRemaining(state, taken)
  }
}

/** The limit as the state shows it (spend with its bonus, credits as the balance); null: none. */
export function limitOf(state: State, rule: LimitRule): number | null {
  switch (rule.kind) {
    case 'requests':
    case 'concurrency':
      return rule.limit
    case 'tokens':
      return rule.capacity
    case 'spend':
      return rule.limitNanos === null ? null : rule.limitNanos + (state.kind === 'spend' ? state.bonus : 0)
    case 'credits':
      return state.kind === 'credits' ? balanceOf(state) : 0
  }
}

/**
 * The state as a {@link ChargeState}: limit, used, held, remaining and when it resets.
 *
 * @example
 * ```ts
 * const rule = { kind: 'concurrency', limit: 2 } as const
 * describe('user:u1', 'parallel', rule, fresh(rule, 0, 'user:u1', 'parallel'), 0) // { remaining: 2, … }
 * ```
 */
export function describe(
  scope: ScopeKey,
  policy: string,
  rule: LimitRule,
  state: State,
  at: number,
): ChargeState {
  let limit: number | null
  let used = 0
  let held: number
  let remaining: number | null
  let resetAt: number | null = null
  // one switch on the state's kind reads each field once (the helpers above each switch again): this
  // runs for every charge of every call
  switch (state.kind) {
    case 'requests': {
      const cap = rule.kind === 'requests' ? rule.limit : 0
      limit = rule.kind === 'requests' ? rule.limit : limitOf(state, rule)
      used = state.settledSum
      held = state.total - used
      remaining = requestsRemaining(state, cap, 0)
      const oldest = firstEntryAt(state)
      if (oldest !== undefined && rule.kind === 'requests') resetAt = oldest + rule.windowMs
      break
    }
    case 'tokens':
      limit = limitOf(state, rule)
      held = state.held
      remaining = tokensRemaining(state, 0)
      if (rule.kind === 'tokens') {
        used = Math.max(0, rule.capacity - Math.floor(state.level) - held)
        if (state.level < rule.capacity && rule.refillPerSecond > 0) {
          resetAt = at + Math.ceil(((rule.capacity - state.level) * 1000) / rule.refillPerSecond)
        }
      }
      break
    case 'spend':
      held = state.held
      used = state.spent
      if (rule.kind === 'spend') {
        limit = rule.limitNanos === null ? null : rule.limitNanos + state.bonus
        remaining = spendRemaining(state, rule.limitNanos, 0)
        resetAt = rule.period.endsAt
      } else {
        limit = limitOf(state, rule)
        remaining = spendRemaining(state, null, 0)
      }
      break
    default:
      limit = limitOf(state, rule)
      held = heldOf(state)
      remaining = remainingOf(state, rule, 0)
      if (state.kind === 'credits') used = state.consumed
  }
  // one literal, not a spread: this runs on every call and spreads are slow in V8
  return { scope, policy, kind: rule.kind, limit, used, held, remaining, resetAt }
}
