import * as z from 'zod/mini'
import { parseOptions } from '../config/parse-options'
import type { LimitPolicy, WhenScopeMissing } from './limit-policy'
import { nameSchema, positiveSchema, scopeSchema, whenMissingSchema } from './rule-schemas'

/** Options for {@link tokenLimit}. */
export interface TokenLimitOptions<Scope extends string = string> {
  /** @default `tokens-<capacity>` */
  name?: string
  /** The scope kind it applies to. */
  scope: Scope
  /**
   * What a request whose scope has no id for this kind counts against: `refuse` it (`scope.missing`),
   * `skip` this limit, or count it against `{ id }`. @default 'refuse'
   */
  whenMissing?: WhenScopeMissing
  /** Most tokens the bucket holds (the burst). */
  capacity: number
  /** Tokens added back per second, continuously (`capacity / 60` for a per-minute limit). */
  refillPerSecond: number
}

const schema = /* @__PURE__ */ (() =>
  z.strictObject({
    name: nameSchema,
    scope: scopeSchema,
    whenMissing: whenMissingSchema,
    capacity: positiveSchema,
    refillPerSecond: z.number().check(z.positive()),
  }))()

/**
 * A token bucket: each request takes its token estimate, settling returns the difference, and an
 * overage becomes debt that delays later requests.
 *
 * @param options - the scope kind, the capacity and the refill rate.
 * @example
 * ```ts
 * const tpm = tokenLimit({ scope: 'tenant', capacity: 100_000, refillPerSecond: 100_000 / 60 })
 * ```
 */
export function tokenLimit<const Scope extends string>(
  options: TokenLimitOptions<Scope>,
): LimitPolicy<Scope> {
  const {
    name,
    capacity,
    refillPerSecond,
    whenMissing = 'refuse',
  } = parseOptions(schema, options, 'tokenLimit')
  const rule = Object.freeze({ kind: 'tokens' as const, capacity, refillPerSecond })
  return Object.freeze({
    name: name ?? `tokens-${capacity}`,
    kind: 'tokens',
    scope: options.scope,
    whenMissing,
    ruleFor: () => rule,
  })
}
