import type { LimitKind, LimitRule } from './store'

/**
 * Who a request is for: `{ tenant: 't1', user: 'u9' }`. `global` is always implied.
 *
 * @example
 * ```ts
 * const scope: RequestScope = { tenant: 't1', user: 'u9', key: 'default', model: 'gpt-4o' }
 * ```
 */
export type RequestScope = Readonly<Record<string, string | undefined>>

/**
 * A limit policy: what to limit, for which scope kind. Build one with `spendLimit`, `requestLimit`…
 *
 * @example
 * ```ts
 * const policies: LimitPolicy[] = [requestLimit({ scope: 'user', limit: 60, windowMs: 60_000 })]
 * ```
 */
export interface LimitPolicy<Scope extends string = string> {
  /** Unique among the policies of a scope kind, such as `monthly-spend`. */
  readonly name: string
  readonly kind: LimitKind
  /** The scope kind it applies to: `tenant`, `user`, `key`, `model`, `global` or your own. */
  readonly scope: Scope
  /** What a request whose scope names no id for this kind counts against. @default 'refuse' */
  readonly whenMissing?: WhenScopeMissing
  /** @internal The rule for one scope id at an instant. */
  readonly ruleFor: (id: string, now: number) => LimitRule | Promise<LimitRule>
  /** @internal Credits only: the app's recharge function. */
  readonly recharge?: (scope: string, amount: number, idempotencyKey: string) => Promise<void> | void
}

/**
 * What a limit does with a request whose scope has no id for the limit's kind (the key is missing,
 * `undefined`, empty or not a string): `refuse` it with `scope.missing` (the default: what keyguard
 * cannot scope, it refuses), `skip` this limit for it, or count it against one shared `id` (such as
 * `{ id: 'anonymous' }`, so every unidentified request shares one budget).
 *
 * @example
 * ```ts
 * const perUser = requestLimit({ scope: 'user', limit: 20, windowMs: 60_000, whenMissing: { id: 'anonymous' } })
 * ```
 */
export type WhenScopeMissing = 'refuse' | 'skip' | { readonly id: string }
