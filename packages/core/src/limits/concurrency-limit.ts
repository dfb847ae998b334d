import * as z from 'zod/mini'
import { parseOptions } from '../config/parse-options'
import type { LimitPolicy, WhenScopeMissing } from './limit-policy'
import { nameSchema, positiveSchema, scopeSchema, whenMissingSchema } from './rule-schemas'

/** Options for {@link concurrencyLimit}. */
export interface ConcurrencyLimitOptions<Scope extends string = string> {
  /** @default `concurrency-<limit>` */
  name?: string
  /** The scope kind it applies to. */
  scope: Scope
  /**
   * What a request whose scope has no id for this kind counts against: `refuse` it (`scope.missing`),
   * `skip` this limit, or count it against `{ id }`. @default 'refuse'
   */
  whenMissing?: WhenScopeMissing
  /** Most requests in flight at once. */
  limit: number
}

const schema = /* @__PURE__ */ z.strictObject({
  name: nameSchema,
  scope: scopeSchema,
  whenMissing: whenMissingSchema,
  limit: positiveSchema,
})

/**
 * A concurrency limit: at most `limit` requests in flight per scope; a crashed one frees its slot
 * when its lease ends.
 *
 * @param options - the scope kind and the limit.
 * @example
 * ```ts
 * const inFlight = concurrencyLimit({ scope: 'key', limit: 8 })
 * ```
 */
export function concurrencyLimit<const Scope extends string>(
  options: ConcurrencyLimitOptions<Scope>,
): LimitPolicy<Scope> {
  const { name, limit, whenMissing = 'refuse' } = parseOptions(schema, options, 'concurrencyLimit')
  const rule = Object.freeze({ kind: 'concurrency' as const, limit })
  return Object.freeze({
    name: name ?? `concurrency-${limit}`,
    kind: 'concurrency',
    scope: options.scope,
    whenMissing,
    ruleFor: () => rule,
  })
}
