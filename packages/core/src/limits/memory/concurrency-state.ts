import type { LimitRule } from '../store'
import { type Held, HoldSet } from './hold-set'
import type { Common } from './state'

type ConcurrencyRule = Extract<LimitRule, { kind: 'concurrency' }>

/**
 * A concurrency limit's state: only its holds.
 *
 * @example
 * ```ts
 * const state: ConcurrencyState = freshConcurrency('user:u1', 'parallel')
 * ```
 */
export interface ConcurrencyState extends Common, Held {
  kind: 'concurrency'
}

/** Nothing in flight. */
export function freshConcurrency(scope: string, policy: string): ConcurrencyState {
  return {
    kind: 'concurrency',
    holds: new HoldSet(),
    held: 0,
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

/** When `amount` more fits: the lease ends of the holds that must end first. */
export function concurrencyRetryAfter(
  state: ConcurrencyState,
  rule: ConcurrencyRule,
  amount: number,
  taken: number,
  at: number,
): number | null {
  let need = state.held + taken + amount - rule.limit
  const holds = state.holds.toArray().sort((a, b) => a.owner.leaseEnd - b.owner.leaseEnd)
  for (const hold of holds) {
    need -= hold.amount
    if (need <= 0) return Math.max(0, hold.owner.leaseEnd - at)
  }
  return null
}

/** How many more may run under `limit`, after `taken` already held by this reservation. */
export function concurrencyRemaining(state: ConcurrencyState, limit: number, taken: number): number {
  return Math.max(0, limit - state.held - taken)
}
