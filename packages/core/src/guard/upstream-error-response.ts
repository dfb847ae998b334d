import { classifyOpenAIError } from '../errors/classify-openai-error'
import type { KeyguardError } from '../errors/keyguard-error'
import { scrubSecrets } from '../keys/scrub-secrets'
import type { HeaderPairs } from './header-pairs'
import type { ResolvedOptions } from './keyguard-options'

/**
 * The error an upstream error body stands for, and the body with every known secret scrubbed.
 *
 * @example
 * ```ts
 * const { error, scrubbed } = classifyUpstreamError(options, upstream, await upstream.text())
 * ```
 */
export function classifyUpstreamError(
  options: ResolvedOptions,
  upstream: Response,
  text: string,
): { error: KeyguardError; scrubbed: string } {
  const scrubbed = scrubSecrets(text, options.secrets)
  let parsedBody: unknown = scrubbed
  try {
    parsedBody = JSON.parse(scrubbed)
  } catch {}
  const error = classifyOpenAIError(
    { status: upstream.status, headers: upstream.headers, body: parsedBody },
    { secrets: options.secrets },
  )
  return { error, scrubbed }
}

/**
 * The upstream error as the client receives it: OpenAI's status and scrubbed body, tagged with
 * `x-keyguard-error-code`, and `x-should-retry: false` when no retry can succeed.
 *
 * @example
 * ```ts
 * return upstreamErrorResponse(upstream, scrubbed, error, responseHeaders)
 * ```
 */
export function upstreamErrorResponse(
  upstream: Response,
  scrubbed: string,
  error: KeyguardError,
  responseHeaders: HeaderPairs,
): Response {
  responseHeaders.push(['x-keyguard-error-code', error.code])
  if (!error.retryable) {
    const at = responseHeaders.findIndex(([name]) => name === 'x-should-retry')
    if (at !== -1) responseHeaders.splice(at, 1)
    responseHeaders.push(['x-should-retry', 'false'])
  }
  return new Response(scrubbed, {
    status: upstream.status,
    statusText: upstream.statusText,
    headers: responseHeaders,
  })
}
