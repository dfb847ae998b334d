import type { ChargeState } from '../limits/store'

/** The IETF `RateLimit` and `RateLimit-Policy` header values for a set of limit states. */
export interface RateLimitHeaderValues {
  'ratelimit-policy': string
  ratelimit: string
}

const quotaUnits: Partial<Record<ChargeState['kind'], string>> = {
  requests: 'requests',
  concurrency: 'concurrent-requests',
}

/**
 * Build `RateLimit-Policy` and `RateLimit` header values (IETF draft-ietf-httpapi-ratelimit-headers)
 * from the states a guarded call reserved against, for adapters to send their own clients. Each
 * limited policy is one item named `scope/policy`, with `q` (quota), `r` (remaining) and `t`
 * (seconds until reset). Unlimited states are left out; `undefined` when none is limited.
 *
 * @example
 * ```ts
 * const result = keyguardResult(response)
 * const values = result && rateLimitHeaders(result.states, Date.now())
 * if (values) for (const [name, value] of Object.entries(values)) res.setHeader(name, value)
 * ```
 */
export function rateLimitHeaders(
  states: readonly ChargeState[],
  now: number,
): RateLimitHeaderValues | undefined {
  const policies: string[] = []
  const limits: string[] = []
  for (const state of states) {
    if (state.limit === null || state.remaining === null) continue
    const name = `"${`${state.scope}/${state.policy}`.replace(/["\\]/g, '')}"`
    const unit = quotaUnits[state.kind]
    policies.push(`${name};q=${state.limit}${unit ? `;qu="${unit}"` : ''}`)
    const reset = state.resetAt === null ? '' : `;t=${Math.max(0, Math.ceil((state.resetAt - now) / 1000))}`
    limits.push(`${name};r=${state.remaining}${reset}`)
  }
  if (policies.length === 0) return undefined
  return { 'ratelimit-policy': policies.join(', '), ratelimit: limits.join(', ') }
}
