import type { KeyguardErrorCode } from '../errors/codes'
import { KeyguardError } from '../errors/keyguard-error'
import type { Denial, LimitKind } from './store'

const codes: Record<LimitKind, KeyguardErrorCode> = {
  spend: 'budget.hard_limit',
  requests: 'rate.requests',
  tokens: 'rate.tokens',
  concurrency: 'rate.concurrency',
  credits: 'credits.exhausted',
}

/**
 * The `KeyguardError` for a store denial: `budget.hard_limit`, `rate.requests`, `rate.tokens`,
 * `rate.concurrency` or `credits.exhausted`, with `retryAfterMs` when waiting helps.
 *
 * @param denial - the store's denial.
 * @example
 * ```ts
 * const result = await store.reserve(input)
 * if (!result.ok) throw denialToError(result.denial)
 * ```
 */
export function denialToError(denial: Denial): KeyguardError {
  const { scope, policy, kind, limit, remaining, requested, retryAfterMs } = denial
  return new KeyguardError({
    code: codes[kind],
    message: `${kind} limit '${policy}' for ${scope}: requested ${requested}, remaining ${remaining}${limit === null ? '' : ` of ${limit}`}`,
    ...(retryAfterMs === null ? { retryable: false } : { retryAfterMs }),
    details: { scope, policy, kind, limit, remaining, requested },
  })
}
