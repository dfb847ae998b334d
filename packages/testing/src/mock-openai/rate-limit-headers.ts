/** The rate limits the mock reports in `x-ratelimit-*` headers. */
export interface MockRateLimits {
  limitRequests: number
  limitTokens: number
  /** Go duration, as OpenAI sends it. */
  resetRequests: string
  resetTokens: string
}

/**
 * The `x-ratelimit-*` headers OpenAI sends, with remaining counts taken down by what was served.
 *
 * @example
 * ```ts
 * rateLimitHeaders(limits, { served: 3, tokensUsed: 120 })['x-ratelimit-remaining-requests'] // '9997'
 * ```
 */
export function rateLimitHeaders(
  limits: MockRateLimits,
  used: { served: number; tokensUsed: number },
): Record<string, string> {
  return {
    'x-ratelimit-limit-requests': String(limits.limitRequests),
    'x-ratelimit-limit-tokens': String(limits.limitTokens),
    'x-ratelimit-remaining-requests': String(Math.max(limits.limitRequests - used.served, 0)),
    'x-ratelimit-remaining-tokens': String(Math.max(limits.limitTokens - used.tokensUsed, 0)),
    'x-ratelimit-reset-requests': limits.resetRequests,
    'x-ratelimit-reset-tokens': limits.resetTokens,
  }
}
