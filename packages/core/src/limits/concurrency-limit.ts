import * as z from 'zod/mini'
import { type LimitPolicy, parseOptions } from './limit-policy'
import { nameSchema, positiveSchema, scopeSchema } from './rule-schemas'

/** Options for {@link concurrencyLimit}. */
export interface ConcurrencyLimitOptions {
  /** @default `concurrency-<limit>` */
  name?: string
  /** The scope kind it applies to. */
  scope: string
  /** Most requests in flight at once. */
  limit: number
}

const schema = z.strictObject({ name: nameSchema, scope: scopeSchema, limit: positiveSchema })

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
export function concurrencyLimit(options: ConcurrencyLimitOptions): LimitPolicy {
  const { name, scope, limit } = parseOptions(schema, options, 'concurrencyLimit')
  const rule = Object.freeze({ kind: 'concurrency' as const, limit })
  return Object.freeze({
    name: name ?? `concurrency-${limit}`,
    kind: 'concurrency',
    scope,
    ruleFor: () => rule,
  })
}
