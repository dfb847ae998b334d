import { configInvalid } from '../config/check-options'
import { KeyguardError } from '../errors/keyguard-error'
import { estimateRequest } from '../estimate/estimate-request'
import { chargesFor, usageScoped } from '../limits/charges-for'
import type { RequestScope } from '../limits/limit-policy'
import { unknownScopeKindProblems } from '../limits/scope-kinds'
import type { Charge, KeyguardStore } from '../limits/store'
import type { Keyguard } from './create-keyguard'
import { estimateOptions } from './estimate-options'
import { guardedFetch } from './guarded-fetch'
import { recordEntries } from './keyguard-ledger'
import type { ResolvedOptions } from './keyguard-options'
import { endpointOf } from './read-request'
import type { Shared } from './shared'

export function bindKeyguard(shared: Shared, scope: RequestScope): Keyguard {
  const { options } = shared
  const frozen = Object.freeze({ ...scope })
  const scopeOf = (extra?: RequestScope, label = 'guard.usage') => ({
    ...frozen,
    ...knownKinds(options, extra, label),
  })
  let forCache: WeakMap<object, Keyguard> | undefined
  const guard: Keyguard = {
    fetch: function keyguardFetch(input, init) {
      return guardedFetch(shared, frozen, input, init)
    },
    for(next) {
      // A frozen scope (every virtual key's) cannot change: the proxy asks for the same one on each of
      // its caller's requests, and gets the guard built the first time (a lookup, not a guard build).
      if (!next || !Object.isFrozen(next)) return bindKeyguard(shared, scopeOf(next, 'guard.for'))
      forCache ??= new WeakMap()
      let bound = forCache.get(next)
      if (!bound) {
        bound = bindKeyguard(shared, scopeOf(next, 'guard.for'))
        forCache.set(next, bound)
      }
      return bound
    },
    estimate: ({ endpoint, body }) =>
      estimateRequest(endpointOf(endpoint), body, estimateOptions(options, options.now())),
    async usage(extra) {
      const charges = await chargesFor(
        options.limits,
        withKey(options, scopeOf(extra)),
        usageScoped,
        options.now(),
        // Reading: a limit the scope names no id for is not that scope's limit, so it is left out.
        { missing: 'skip' },
      )
      const byScope = new Map<string, Charge[]>()
      for (const charge of charges) byScope.set(charge.scope, [...(byScope.get(charge.scope) ?? []), charge])
      const states = await Promise.all(
        [...byScope].map(([key, list]) =>
          options.store.peek({ scope: key, policies: list.map(({ policy, rule }) => ({ policy, rule })) }),
        ),
      )
      return states.flat()
    },
    credits: {
      async balance(extra) {
        const charge = await creditsCharge(options, withKey(options, scopeOf(extra, 'guard.credits.balance')))
        const [state] = await options.store.peek({
          scope: charge.scope,
          policies: [{ policy: charge.policy, rule: charge.rule }],
        })
        return state?.remaining ?? 0
      },
      async grant(extra, amountNanos, grantOptions) {
        if (!Number.isSafeInteger(amountNanos) || amountNanos <= 0)
          throw new KeyguardError({
            code: 'config.invalid',
            message: `credits.grant: amountNanos must be a positive integer of nano-USD, got ${amountNanos}`,
            operatorHint: 'convert dollars with usd(5), which returns integer nanos',
          })
        const charge = await creditsCharge(options, withKey(options, scopeOf(extra, 'guard.credits.grant')))
        const state = await options.store.adjust({
          scope: charge.scope,
          policy: charge.policy,
          rule: charge.rule,
          delta: amountNanos,
          ...(grantOptions?.expiresAt === undefined ? {} : { expiresAt: grantOptions.expiresAt }),
          ...(grantOptions?.idempotencyKey === undefined
            ? {}
            : { idempotencyKey: grantOptions.idempotencyKey }),
        })
        recordEntries(options, () => [
          {
            type: 'credit',
            id: grantOptions?.idempotencyKey ?? `grant:${crypto.randomUUID()}`,
            kind: 'grant',
            scope: charge.scope,
            policy: charge.policy,
            amountNanos,
            ...(grantOptions?.expiresAt === undefined ? {} : { expiresAt: grantOptions.expiresAt }),
            at: options.now(),
          },
        ])
        return state
      },
    },
    upstreamRateLimits: (keyName) => shared.rateLimits.get(keyName ?? frozen.key ?? options.defaultKey),
    on: (type, listener) => shared.emitter.on(type, listener),
    scope: frozen,
  }
  // Not enumerable: a guard printed or spread shows no store or clock.
  Object.defineProperty(guard, storeKey, { value: options.store })
  Object.defineProperty(guard, clockKey, { value: options.now })
  return Object.freeze(guard)
}

// Symbol.for: found on a guard built by another copy of this package (ESM and CJS).
const storeKey = /* @__PURE__ */ Symbol.for('keyguard.store')
const clockKey = /* @__PURE__ */ Symbol.for('keyguard.now')

/**
 * The guard's clock (`createKeyguard({ now })`), so what adapters stamp from it (`RateLimit` reset
 * times) runs on the same time as its limits; `Date.now` for an object that only looks like a guard.
 *
 * @example
 * ```ts
 * const resetIn = Math.ceil((state.resetAt - clockOf(guard)()) / 1000)
 * ```
 */
export function clockOf(guard: Keyguard): () => number {
  return (guard as unknown as Record<symbol, (() => number) | undefined>)[clockKey] ?? Date.now
}

/**
 * The store a guard counts in, where the OpenAI proxy also records who owns a stored object;
 * `undefined` for an object that only looks like a guard.
 *
 * @example
 * ```ts
 * const owner = await storeOf(guard)?.ownerOf?.('resp_123')
 * ```
 */
export function storeOf(guard: Keyguard): KeyguardStore | undefined {
  return (guard as unknown as Record<symbol, KeyguardStore | undefined>)[storeKey]
}

/** A scope whose kinds are all built in or named by a limit; a misspelt kind is `config.invalid`. */
function knownKinds<T extends RequestScope | undefined>(
  options: ResolvedOptions,
  scope: T,
  label: string,
): T {
  const problems = unknownScopeKindProblems(scope, options.limits, label)
  if (problems.length > 0) throw configInvalid(label, problems, 'the scope')
  return scope
}

function withKey(options: ResolvedOptions, scope: RequestScope): RequestScope {
  return scope.key === undefined ? { ...scope, key: options.defaultKey } : scope
}

async function creditsCharge(options: ResolvedOptions, scope: RequestScope): Promise<Charge> {
  const policies = options.limits.filter((policy) => policy.kind === 'credits')
  const charges = await chargesFor(policies, scope, usageScoped, options.now())
  const charge = charges.find((candidate) => candidate.rule.kind === 'credits')
  if (!charge)
    throw new KeyguardError({
      code: 'config.invalid',
      message: `no credits() limit applies to the scope ${JSON.stringify(scope)}`,
      operatorHint:
        "add credits({ scope: 'tenant' }) to the guard's limits and pass that scope: credits.balance({ tenant: 't1' })",
    })
  return charge
}
