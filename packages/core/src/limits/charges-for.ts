import { KeyguardError, type KeyguardProblem } from '../errors/keyguard-error'
import type { LimitPolicy, RequestScope } from './limit-policy'
import type { Charge, LimitRule } from './store'

/** The amount that names a request's limits without charging them: for reading state. */
export const usageScoped = { costNanos: 0, tokens: 0 }

/** Options for {@link chargesFor}. */
export interface ChargesForOptions {
  /**
   * A policy whose scope kind the request has no id for (and whose `whenMissing` names no id):
   * `refuse` throws `scope.missing` (a reservation), `skip` leaves the policy out (reading state).
   * @default 'refuse'
   */
  missing?: 'refuse' | 'skip'
}

/**
 * The charges a request makes: one per policy (`global` always), with the store scope key `kind:id`
 * (`tenant:t1`) and the amount the policy counts: 1 request, the token estimate, or the maximum cost
 * in nanos. A request whose scope has no id for a policy's kind (missing, `undefined`, empty or only whitespace, not a
 * string) is refused with `scope.missing`, every such policy listed, unless the policy's `whenMissing`
 * says to skip it or names the id to charge.
 *
 * @param policies - the limit policies.
 * @param scope - who the request is for.
 * @param amount - the request's maximum cost and token estimate.
 * @param now - the instant, for calendar periods.
 * @param options - whether a missing scope refuses or is left out (for reads).
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
  { missing = 'refuse' }: ChargesForOptions = {},
): Promise<Charge[]> {
  const charges: Charge[] = []
  const unscoped: LimitPolicy[] = []
  for (const policy of policies) {
    const id = scopeIdOf(policy, scope)
    if (id === undefined) {
      if (missing === 'refuse' && (policy.whenMissing ?? 'refuse') === 'refuse') unscoped.push(policy)
      continue
    }
    // Once the request is refused, no further rule is worth computing.
    if (unscoped.length > 0) continue
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
  if (unscoped.length > 0) throw scopeMissing(unscoped, scope)
  return charges
}

// The id a policy charges for this scope, or undefined when the scope has none it can use.
function scopeIdOf(policy: LimitPolicy, scope: RequestScope): string | undefined {
  if (policy.scope === 'global') return 'global'
  const value: unknown = Object.hasOwn(scope, policy.scope) ? scope[policy.scope] : undefined
  // Only whitespace is no id either: '  ' is a blank form field or a trimmed header, never a tenant.
  if (typeof value === 'string' && /\S/.test(value)) return value
  const fallback = policy.whenMissing
  return typeof fallback === 'object' && fallback !== null ? fallback.id : undefined
}

function scopeMissing(policies: readonly LimitPolicy[], scope: RequestScope): KeyguardError {
  const kinds = [...new Set(policies.map((policy) => policy.scope))]
  const problems: KeyguardProblem[] = kinds.map((kind) => {
    const names = policies.filter((policy) => policy.scope === kind).map((policy) => `'${policy.name}'`)
    return {
      code: 'scope_missing',
      path: kind,
      message: `the request's scope has no ${kind} (${describe(scope[kind], Object.hasOwn(scope, kind))}), and the limit${names.length === 1 ? '' : 's'} ${names.join(', ')} ${names.length === 1 ? 'is' : 'are'} keyed by ${kind}`,
      fix: `pass it, as a non-empty string: guard.for({ ${kind}: '…' }) or the adapter's scope function; or give the limit whenMissing: 'skip' or { id: 'anonymous' } to say what a request without a ${kind} counts against`,
    }
  })
  return new KeyguardError({
    code: 'scope.missing',
    message: `keyguard cannot tell who pays for this request: ${problems.map((problem) => problem.message).join('; ')}`,
    operatorHint: problems.map((problem) => problem.fix).join('; '),
    problems,
    details: { missing: policies.map((policy) => ({ policy: policy.name, scope: policy.scope })) },
  })
}

function describe(value: unknown, present: boolean): string {
  if (!present) return 'no such key'
  if (value === undefined) return 'it is undefined'
  if (value === '') return 'it is empty'
  if (typeof value === 'string') return 'it is only whitespace'
  return `it is ${value === null ? 'null' : `a ${typeof value}`}, not a string`
}
