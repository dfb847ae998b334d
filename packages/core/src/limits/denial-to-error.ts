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
 * How soon a refusal that waits on running calls says to retry, at most: a concurrency slot, or a
 * spend limit that running calls hold but have not spent. It frees when any of them ends, which no
 * store can know: the store's `retryAfterMs` is the latest it can take (a hold's lease, minutes, or
 * the next spend period), so the error says this short, honest wait instead (sooner when that is).
 *
 * @example
 * ```ts
 * denialToError({ ...denial, kind: 'concurrency', retryAfterMs: 600_000 }).retryAfterMs // 1000
 * ```
 */
export const concurrencyRetryHintMs = 1000

// Whether the charge fits once running calls end: always for concurrency (a denial with a wait); for
// spend when what is settled leaves room for it (the rest is only held).
function waitsOnRunningCalls({ kind, limit, used, requested }: Denial): boolean {
  if (kind === 'concurrency') return true
  return kind === 'spend' && limit !== null && used !== undefined && limit - used >= requested
}

/**
 * The `KeyguardError` for a store denial: `budget.hard_limit`, `rate.requests`, `rate.tokens`,
 * `rate.concurrency` or `credits.exhausted`, with `retryAfterMs` when waiting helps: the earliest
 * moment the charge fits (a request or token window, the next spend period), or when it waits on
 * running calls (a concurrency slot, a budget held but not spent) {@link concurrencyRetryHintMs}. A wait over a minute is not retryable (see `KeyguardError.retryable`).
 *
 * @param denial - the store's denial.
 * @example
 * ```ts
 * const result = await store.reserve(input)
 * if (!result.ok) throw denialToError(result.denial)
 * ```
 */
export function denialToError(denial: Denial): KeyguardError {
  const { scope, policy, kind, limit, remaining, requested } = denial
  const retryAfterMs =
    denial.retryAfterMs !== null && waitsOnRunningCalls(denial)
      ? Math.min(denial.retryAfterMs, concurrencyRetryHintMs)
      : denial.retryAfterMs
  return new KeyguardError({
    code: codes[kind],
    message: `${kind} limit '${policy}' for ${scope}: requested ${requested}, remaining ${remaining}${limit === null ? '' : ` of ${limit}`}`,
    ...(retryAfterMs === null ? { retryable: false } : { retryAfterMs }),
    details: { scope, policy, kind, limit, remaining, requested },
  })
}
