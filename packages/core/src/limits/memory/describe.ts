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
 * describe('user:u1', 'parallel', rule, fresh(rule, 0, 'k'), 0) // { remaining: 2, … }
 * ```
 */
export function describe(
  scope: ScopeKey,
  policy: string,
  rule: LimitRule,
  state: State,
  at: number,
): ChargeState {
  const held = heldOf(state)
  let used = 0
  let resetAt: number | null = null
  switch (state.kind) {
    case 'requests': {
      used = state.settledSum
      const oldest = firstEntryAt(state)
      if (oldest !== undefined && rule.kind === 'requests') resetAt = oldest + rule.windowMs
      break
    }
    case 'tokens':
      if (rule.kind === 'tokens') {
        used = Math.max(0, rule.capacity - Math.floor(state.level) - held)
        if (state.level < rule.capacity && rule.refillPerSecond > 0) {
          resetAt = at + Math.ceil(((rule.capacity - state.level) * 1000) / rule.refillPerSecond)
        }
      }
      break
    case 'spend':
      used = state.spent
      if (rule.kind === 'spend') resetAt = rule.period.endsAt
      break
    case 'credits':
      used = state.consumed
      break
    case 'concurrency':
      break
  }
  // one literal, not a spread: this runs on every call and spreads are slow in V8
  return {
    scope,
    policy,
    kind: rule.kind,
    limit: limitOf(state, rule),
    used,
    held,
    remaining: remainingOf(state, rule, 0),
    resetAt,
  }
}
