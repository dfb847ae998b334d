import * as z from 'zod/mini'
import { type LimitPolicy, parseOptions } from './limit-policy'
import { nameSchema, positiveSchema, scopeSchema } from './rule-schemas'

/** Options for {@link requestLimit}. */
export interface RequestLimitOptions {
  /** @default `requests-<limit>-per-<windowMs>ms` */
  name?: string
  /** The scope kind it applies to: `tenant`, `user`, `key`, `model` or `global`. */
  scope: string
  /** Requests allowed in any window. */
  limit: number
  /** The sliding window, in ms. */
  windowMs: number
}

const schema = z.strictObject({
  name: nameSchema,
  scope: scopeSchema,
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
export function requestLimit(options: RequestLimitOptions): LimitPolicy {
  const { name, scope, limit, windowMs } = parseOptions(schema, options, 'requestLimit')
  const rule = Object.freeze({ kind: 'requests' as const, limit, windowMs })
  return Object.freeze({
    name: name ?? `requests-${limit}-per-${windowMs}ms`,
    kind: 'requests',
    scope,
    ruleFor: () => rule,
  })
}
