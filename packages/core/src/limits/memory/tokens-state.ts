import type { LimitRule } from '../store'
import { type Held, HoldSet } from './hold-set'
import type { Common } from './state'

type TokensRule = Extract<LimitRule, { kind: 'tokens' }>

/**
 * A token bucket's state: its level at `at`, holds already taken out of it.
 *
 * @example
 * ```ts
 * const state: TokensState = freshTokens({ kind: 'tokens', capacity: 1000, refillPerSecond: 10 }, 0, 'user:u1', 'tpm')
 * ```
 */
export interface TokensState extends Common, Held {
  kind: 'tokens'
  level: number
  at: number
}

/** A full bucket. */
export function freshTokens(rule: TokensRule, at: number, scope: string, policy: string): TokensState {
  return {
    kind: 'tokens',
    level: rule.capacity,
    at,
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

/** Refill the bucket up to `at`. */
export function applyTokensTime(state: TokensState, rule: TokensRule, at: number): void {
  const elapsed = Math.max(0, at - state.at)
  state.level = Math.min(rule.capacity, state.level + (elapsed * rule.refillPerSecond) / 1000)
  state.at = Math.max(state.at, at)
}

/** Put `back` tokens of an ended hold back in the bucket, up to its capacity. */
export function refund(state: TokensState, rule: LimitRule, back: number): void {
  const capacity = rule.kind === 'tokens' ? rule.capacity : Number.POSITIVE_INFINITY
  state.level = Math.min(capacity, state.level + back)
}

/** When the bucket holds `amount` more, with `taken` already held by this reservation. */
export function tokensRetryAfter(
  state: TokensState,
  rule: TokensRule,
  amount: number,
  taken: number,
): number {
  return Math.max(0, Math.ceil(((amount - (state.level - taken)) * 1000) / rule.refillPerSecond))
}

/** What a new reservation may still take from the bucket, after `taken` already held by it. */
export function tokensRemaining(state: TokensState, taken: number): number {
  return Math.max(0, Math.floor(state.level - taken))
}
