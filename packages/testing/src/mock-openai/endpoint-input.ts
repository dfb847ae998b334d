import type { TokenCounts } from './compute-usage'

/**
 * What an endpoint handler builds its answer from: the request's fields and the reply as counted.
 *
 * @example
 * ```ts
 * const input: EndpointInput = { serial: '000001', created, model: 'gpt-4o-mini', fields, ...usage, omitUsage: false }
 * ```
 */
export interface EndpointInput {
  /** The request's number, zero-padded, for ids (`chatcmpl-mock000001`). */
  serial: string
  /** Unix seconds for `created` fields. */
  created: number
  /** The requested model, `gpt-4o-mini` when none was named. */
  model: string
  /** The request's JSON body, `{}` when it is not an object. */
  fields: Record<string, unknown>
  /** The reply's output tokens. */
  pieces: string[]
  /** The output limit cut the reply. */
  truncated: boolean
  counts: TokenCounts
  /** Leave usage out of the answer. */
  omitUsage: boolean
}
