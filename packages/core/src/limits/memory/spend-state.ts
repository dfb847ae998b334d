import type { ScopeKey, SpendRule, StoreEvent } from '../store'
import { type Held, HoldSet } from './hold-set'
import type { Common } from './state'

/**
 * A spend limit's state for one period: what was spent, bonus budget, soft thresholds fired.
 *
 * @example
 * ```ts
 * const state: SpendState = freshSpend(rule, 'user:u1', 'budget')
 * ```
 */
export interface SpendState extends Common, Held {
  kind: 'spend'
  /** When the state's period ends: after it, the state may be forgotten. */
  endsAt: number
  spent: number
  bonus: number
  /** Soft thresholds fired this period; {@link noneFired} (shared, never written) until the first. */
  fired: number[]
}

/** No soft threshold fired: shared by every state until its first, so an idle state holds no array. */
const noneFired: number[] = /* @__PURE__ */ Object.freeze([]) as unknown as number[]

/** Nothing spent in the rule's period. */
export function freshSpend(rule: SpendRule, scope: string, policy: string): SpendState {
  return {
    kind: 'spend',
    endsAt: rule.period.endsAt,
    spent: 0,
    bonus: 0,
    fired: noneFired,
    holds: new HoldSet(),
    held: 0,
    minLease: Number.POSITIVE_INFINITY,
    scope,
    policy,
    period: rule.period.id,
    sibling: null,
    prev: null,
    next: null,
    stamp: 0,
    kept: false,
    gone: false,
  }
}

/** Push a `soft-limit` event for each soft threshold the spend has newly reached. */
export function softCheck(
  state: SpendState,
  rule: SpendRule,
  scope: ScopeKey,
  policy: string,
  events: StoreEvent[],
): void {
  if (rule.softNanos.length === 0) return
  for (const threshold of [...rule.softNanos].sort((a, b) => a - b)) {
    if (state.spent < threshold || state.fired.includes(threshold)) continue
    if (state.fired === noneFired) state.fired = []
    state.fired.push(threshold)
    events.push({
      type: 'soft-limit',
      scope,
      policy,
      thresholdNanos: threshold,
      usedNanos: state.spent,
      limitNanos: rule.limitNanos,
      periodId: rule.period.id,
    })
  }
}

/** What a new reservation may still spend under `limit`, after `taken` already held by it; null: no limit. */
export function spendRemaining(state: SpendState, limit: number | null, taken: number): number | null {
  if (limit === null) return null
  return Math.max(0, limit + state.bonus - state.spent - state.held - taken)
}
