import { type Item, serializeList } from 'structured-headers'
import type { ChargeState, LimitKind } from '../limits/store'

/** Options for {@link rateLimitHeaders}. */
export interface RateLimitHeadersOptions {
  /** The time `t` (seconds until reset) counts from, in epoch ms. @default Date.now() */
  now?: number
  /** Also show spend and credits policies (quota in nano-USD). Off by default: spend is often private. @default false */
  spend?: boolean
}

/** The two IETF fields, ready to set on a response. */
export interface RateLimitHeaderValues {
  ratelimit: string
  'ratelimit-policy': string
}

// The draft's quota units; spend has none registered, so it names its own.
const units: Record<LimitKind, string | undefined> = {
  requests: undefined,
  concurrency: 'concurrent-requests',
  tokens: 'tokens',
  spend: 'nano-usd',
  credits: 'nano-usd',
}

/**
 * Build the IETF `RateLimit` and `RateLimit-Policy` header values (draft-ietf-httpapi-ratelimit-headers,
 * structured fields) from the limit states of one request: one list item per policy, named after the
 * policy (`"tenant-rpm"` style when two scopes share a policy name). Policies without a limit are left
 * out, and so are spend and credits unless `spend` is set. `undefined` when nothing is left to show.
 *
 * @example
 * ```ts
 * const values = rateLimitHeaders(keyguardResult(response)?.states ?? [])
 * if (values) for (const [name, value] of Object.entries(values)) headers.set(name, value)
 * // ratelimit-policy: "rpm";q=60   ratelimit: "rpm";r=59;t=60
 * ```
 */
export function rateLimitHeaders(
  states: readonly ChargeState[],
  { now = Date.now(), spend = false }: RateLimitHeadersOptions = {},
): RateLimitHeaderValues | undefined {
  const shown = states.filter(
    (state) => state.limit !== null && (spend || (state.kind !== 'spend' && state.kind !== 'credits')),
  )
  if (shown.length === 0) return undefined
  const counts = new Map<string, number>()
  for (const state of shown) counts.set(state.policy, (counts.get(state.policy) ?? 0) + 1)
  const policies: Item[] = []
  const current: Item[] = []
  for (const state of shown) {
    const kind = state.scope.split(':')[0] ?? state.scope
    const name = (counts.get(state.policy) ?? 0) > 1 ? `${kind}-${state.policy}` : state.policy
    const policy = new Map<string, number | string>([['q', whole(state.limit ?? 0)]])
    const unit = units[state.kind]
    if (unit) policy.set('qu', unit)
    policies.push([name, policy])
    const remaining = new Map<string, number>([['r', whole(state.remaining ?? state.limit ?? 0)]])
    if (state.resetAt !== null) remaining.set('t', whole(Math.ceil((state.resetAt - now) / 1000)))
    current.push([name, remaining])
  }
  return { ratelimit: serializeList(current), 'ratelimit-policy': serializeList(policies) }
}

// Structured-field integers are non-negative here and at most 15 digits.
function whole(value: number): number {
  return Math.min(Math.max(0, Math.floor(value)), 999_999_999_999_999)
}
