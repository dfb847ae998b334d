// Every header policy of keyguard in one place: what reaches upstream, and what reaches the caller.

// Headers a client may send that must not reach upstream: its own (placeholder) credentials, and
// framing that no longer matches the body keyguard sends.
export const droppedRequestHeaders = new Set([
  'authorization',
  'api-key',
  'x-api-key',
  'cookie',
  'host',
  'content-length',
  'connection',
])
// The returned body is decoded and re-framed by the runtime.
export const droppedResponseHeaders = new Set([
  'content-encoding',
  'content-length',
  'transfer-encoding',
  'connection',
])

// The OpenAI-compatible proxy's callers are not the operator: what a caller may send on is an allow-list
// (nothing that carries credentials or framing), and what the operator's account says about itself
// stays with the operator.
export const proxyForwardedRequestHeaders = ['content-type', 'accept', 'openai-beta', 'idempotency-key']
export const proxyPrivateResponseHeaders = /^(openai-organization|openai-project|x-ratelimit-|set-cookie)/i

export type HeaderPairs = [string, string][]

/** The headers minus `dropped`, as name/value pairs (one copy; fetch and Response validate them). */
export function headerPairs(source: HeadersInit | undefined, dropped: ReadonlySet<string>): HeaderPairs {
  const pairs: HeaderPairs = []
  const add = (name: string, value: unknown) => {
    const lower = name.toLowerCase()
    if (!dropped.has(lower)) pairs.push([lower, String(value)])
  }
  if (source === undefined || source === null) return pairs
  if (Array.isArray(source)) for (const [name, value] of source) add(name as string, value)
  else if (typeof (source as Headers).forEach === 'function')
    (source as Headers).forEach((value, name) => {
      add(name, value)
    })
  else for (const [name, value] of Object.entries(source)) if (value !== undefined) add(name, value)
  return pairs
}
