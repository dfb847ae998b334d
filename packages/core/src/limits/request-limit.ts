import * as z from 'zod/mini'
import { parseOptions } from '../config/parse-options'
import type { LimitPolicy, WhenScopeMissing } from './limit-policy'
import { nameSchema, positiveSchema, scopeSchema, whenMissingSchema } from './rule-schemas'

/** Options for {@link requestLimit}. */
export interface RequestLimitOptions<Scope extends string = string> {
  /** @default `requests-<limit>-per-<windowMs>ms` */
  name?: string
  /** The scope kind it applies to: `tenant`, `user`, `key`, `model` or `global`. */
  scope: Scope
  /**
   * What a request whose scope has no id for this kind counts against: `refuse` it (`scope.missing`),
   * `skip` this limit, or count it against `{ id }`. @default 'refuse'
   */
  whenMissing?: WhenScopeMissing
  /** Requests allowed in any window. */
  limit: number
  /** The sliding window, in ms. */
  windowMs: number
}

const schema = /* @__PURE__ */ z.strictObject({
  name: nameSchema,
  scope: scopeSchema,
  whenMissing: whenMissingSchema,
  limit: positiveSchema,
  windowMs: positiveSchema,
})

/**
 * A sliding-window request limit: at most `limit` requests in any `windowMs`, per scope.
 *
 * @param options - the scope kind, the limit and the window.
 * @example
 * ```ts
 * const rpm = requestLimit({ scope: 'user', limit: 60, windowMs: 60_000 })
 * ```
 */
export function requestLimit<const Scope extends string>(
  options: RequestLimitOptions<Scope>,
): LimitPolicy<Scope> {
  const { name, limit, windowMs, whenMissing = 'refuse' } = parseOptions(schema, options, 'requestLimit')
  const rule = Object.freeze({ kind: 'requests' as const, limit, windowMs })
  return Object.freeze({
    name: name ?? `requests-${limit}-per-${windowMs}ms`,
    kind: 'requests',
    scope: options.scope,
    whenMissing,
    ruleFor: () => rule,
  })
}
