import type { LimitPolicy, RequestScope } from './limit-policy'
import type { Charge, LimitRule } from './store'

/**
 * The charges a request makes: one per policy whose scope kind the request names (`global` always),
 * with the store scope key `kind:id` (`tenant:t1`) and the amount the policy counts: 1 request,
 * the token estimate, or the maximum cost in nanos.
 *
 * @param policies - the limit policies.
 * @param scope - who the request is for; scope kinds it does not name are skipped.
 * @param amount - the request's maximum cost and token estimate.
 * @param now - the instant, for calendar periods.
 * @example
 * ```ts
 * const charges = await chargesFor(policies, { tenant: 't1', user: 'u9' }, { costNanos: 1_200, tokens: 800 }, Date.now())
 * ```
 */
export async function chargesFor(
  policies: readonly LimitPolicy[],
  scope: RequestScope,
  amount: { costNanos: number; tokens: number },
  now: number,
): Promise<Charge[]> {
  const charges: Charge[] = []
  for (const policy of policies) {
    const id = policy.scope === 'global' ? 'global' : scope[policy.scope]
    if (id === undefined) continue
    const pending = policy.ruleFor(id, now)
    // Most rules are computed synchronously: awaiting only a real promise saves a microtask per policy.
    const rule =
      typeof (pending as PromiseLike<LimitRule>).then === 'function' ? await pending : (pending as LimitRule)
    const taken =
      rule.kind === 'requests' || rule.kind === 'concurrency'
        ? 1
        : rule.kind === 'tokens'
          ? amount.tokens
          : amount.costNanos
    charges.push({
      scope: policy.scope === 'global' ? 'global' : `${policy.scope}:${id}`,
      policy: policy.name,
      rule,
      amount: taken,
    })
  }
  return charges
}
