import { classifyOpenAIError } from '../errors/classify-openai-error'
import { retryHeaders } from '../errors/error-response'
import type { KeyguardError } from '../errors/keyguard-error'
import { scrubSecrets } from '../secrets/scrub-secrets'
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

// What keyguard decides about retrying replaces whatever upstream said, so one source speaks.
const upstreamRetryHeaders = new Set(['x-should-retry', 'retry-after', 'retry-after-ms'])

/**
 * The upstream error as the client receives it: OpenAI's status and scrubbed body, tagged with
 * `x-keyguard-error-code`. The retry headers say what the classified error says, as a local refusal's
 * do: `x-should-retry` is `error.retryable` (so openai-node sends a quota or auth error once), and
 * `retry-after-ms` / `Retry-After` are `error.retryAfterMs` when known, else absent.
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
  const headers = responseHeaders.filter(([name]) => !upstreamRetryHeaders.has(name))
  headers.push(...retryHeaders(error))
  return new Response(scrubbed, {
    status: upstream.status,
    statusText: upstream.statusText,
    headers,
  })
}
