import { type HeadersLike, readHeader } from './headers-like'
import { parseGoDuration } from './parse-retry-after'

/** OpenAI's own rate limits for a key, as its `x-ratelimit-*` headers report them. */
export interface UpstreamRateLimits {
  limitRequests?: number
  limitTokens?: number
  remainingRequests?: number
  remainingTokens?: number
  /** Time until the request limit resets, in ms. */
  resetRequestsMs?: number
  /** Time until the token limit resets, in ms. */
  resetTokensMs?: number
}

const integerHeaders = [
  ['limitRequests', 'x-ratelimit-limit-requests'],
  ['limitTokens', 'x-ratelimit-limit-tokens'],
  ['remainingRequests', 'x-ratelimit-remaining-requests'],
  ['remainingTokens', 'x-ratelimit-remaining-tokens'],
] as const
const durationHeaders = [
  ['resetRequestsMs', 'x-ratelimit-reset-requests'],
  ['resetTokensMs', 'x-ratelimit-reset-tokens'],
] as const

/**
 * Read OpenAI's `x-ratelimit-*` headers (limits, remaining, and Go-duration resets) into numbers.
 * `undefined` when the response carries none of them.
 *
 * @example
 * ```ts
 * const limits = parseRateLimitHeaders(response.headers)
 * if (limits?.remainingTokens !== undefined && limits.remainingTokens < 1000) slowDown()
 * ```
 */
export function parseRateLimitHeaders(
  headers: HeadersLike | null | undefined,
): UpstreamRateLimits | undefined {
  const limits: UpstreamRateLimits = {}
  let found = false
  for (const [field, name] of integerHeaders) {
    const value = readHeader(headers, name)?.trim()
    if (value === undefined || !/^\d+$/.test(value)) continue
    limits[field] = Number(value)
    found = true
  }
  for (const [field, name] of durationHeaders) {
    const value = readHeader(headers, name)
    const ms = value === undefined ? undefined : parseGoDuration(value)
    if (ms === undefined) continue
    limits[field] = ms
    found = true
  }
  return found ? limits : undefined
}
