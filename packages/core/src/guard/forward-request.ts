import { KeyguardError } from '../errors/keyguard-error'
import { parseRateLimitHeaders } from '../errors/parse-rate-limit-headers'
import type { KeyRingKey } from '../keys/create-key-ring'
import { scrubSecrets } from '../secrets/scrub-secrets'
import { droppedRequestHeaders, headerPairs } from './header-pairs'
import type { ResolvedOptions } from './keyguard-options'
import type { IncomingRequest } from './read-request'
import { scrub } from './scrub-error'
import type { Shared } from './shared'

/**
 * Send the request upstream with the real key, set here and nowhere else. A failure rejects: the
 * caller's own abort as it was (clients recognise an AbortError), anything else as
 * `upstream.timeout` or `upstream.connection`, scrubbed. Rate-limit headers are recorded for the key.
 *
 * @example
 * ```ts
 * const upstream = await forwardRequest(shared, { incoming, upstreamUrl, key, keyName, body })
 * ```
 */
export async function forwardRequest(
  shared: Shared,
  input: {
    incoming: IncomingRequest
    upstreamUrl: string
    key: KeyRingKey
    keyName: string
    body: BodyInit | null | undefined
  },
): Promise<Response> {
  const { options, emitter } = shared
  const { incoming, upstreamUrl, key, keyName, body } = input
  const headers = headerPairs(incoming.headers, droppedRequestHeaders)
  headers.push(['authorization', `Bearer ${key.secret.reveal()}`])
  // A priced body goes as JSON text: a Blob's or stream's own type no longer says so.
  if (incoming.json && !headers.some(([name]) => name === 'content-type'))
    headers.push(['content-type', 'application/json'])
  let upstream: Response
  try {
    const upstreamInit: RequestInit & { duplex?: 'half' } = { method: incoming.method, headers }
    if (body !== undefined && body !== null) upstreamInit.body = body
    if (body instanceof ReadableStream) upstreamInit.duplex = 'half'
    if (incoming.signal) upstreamInit.signal = incoming.signal
    upstream = await options.fetch(upstreamUrl, upstreamInit)
  } catch (error) {
    if (incoming.signal?.aborted) throw error
    const timedOut =
      error instanceof Error && (error.name === 'TimeoutError' || /timed? ?out/i.test(error.message))
    throw new KeyguardError({
      code: timedOut ? 'upstream.timeout' : 'upstream.connection',
      message: `could not reach ${new URL(options.baseUrl).origin}: ${scrub(error, options)}`,
      operatorHint: 'check network access to the API base URL (proxy, DNS, firewall)',
      cause: withoutSecrets(error, options),
    })
  }
  const rateLimits = parseRateLimitHeaders(upstream.headers)
  if (rateLimits) {
    shared.rateLimits.set(keyName, { limits: rateLimits, seenAt: options.now() })
    emitter.emit({
      type: 'upstream-rate-limits',
      keyName,
      fingerprint: key.fingerprint,
      limits: rateLimits,
    })
  }
  return upstream
}

// The cause reaches util.inspect and error trackers: left out when any error in its chain shows a secret.
function withoutSecrets(error: unknown, options: ResolvedOptions): unknown {
  let current = error
  for (let depth = 0; current instanceof Error && depth < 8; depth++) {
    const text = `${current.message}\n${current.stack ?? ''}`
    if (scrubSecrets(text, options.secrets) !== text) return undefined
    current = current.cause
  }
  return error
}
