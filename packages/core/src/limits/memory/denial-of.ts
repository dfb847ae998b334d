import type { Charge, Denial } from '../store'
import { concurrencyRetryAfter } from './concurrency-state'
import { describe, limitOf } from './describe'
import { requestsRetryAfter } from './requests-state'
import type { State } from './state'
import { tokensRetryAfter } from './tokens-state'

/**
 * Why `charge` does not fit in `state`, with `taken` already held by its reservation and `remaining`
 * left, and when it would fit (null: waiting does not help).
 *
 * @example
 * ```ts
 * const denial = denialOf(charge, state, 0, 0, Date.now())
 * denial.retryAfterMs // ms until the charge fits, or null
 * ```
 */
export function denialOf(charge: Charge, state: State, taken: number, remaining: number, at: number): Denial {
  const { rule, amount } = charge
  const limit = limitOf(state, rule)
  let retryAfterMs: number | null = null
  switch (rule.kind) {
    case 'requests':
      if (amount > rule.limit || state.kind !== 'requests') break
      retryAfterMs = requestsRetryAfter(state, rule, amount, taken, at)
      break
    case 'tokens':
      if (amount > rule.capacity || rule.refillPerSecond === 0 || state.kind !== 'tokens') break
      retryAfterMs = tokensRetryAfter(state, rule, amount, taken)
      break
    case 'spend':
      if (limit !== null && amount <= limit) retryAfterMs = Math.max(0, rule.period.endsAt - at)
      break
    case 'concurrency':
      if (amount > rule.limit || state.kind !== 'concurrency') break
      retryAfterMs = concurrencyRetryAfter(state, rule, amount, taken, at)
      break
    case 'credits':
      break
  }
  return {
    scope: charge.scope,
    policy: charge.policy,
    kind: rule.kind,
    limit,
    remaining,
    requested: amount,
    retryAfterMs,
    used: describe(charge.scope, charge.policy, rule, state, at).used,
  }
}
