import { KeyguardError } from '../errors/keyguard-error'

/** What the operator's `price` function says an opted-in call costs, in nano-USD. */
export interface ProxyPrice {
  /** Held before the call and charged after it, whatever the call used. A safe integer ≥ 0. */
  costNanos: number
}

/**
 * An endpoint the operator opts in to the proxy beyond what keyguard prices. The call is held and
 * charged at `price(body)` against every limit of the caller's scope; the answer is passed as it is
 * (keyguard reads no usage from it, and records no ownership: do not opt in an endpoint that lists
 * or reads objects other callers could have created).
 *
 * @example
 * ```ts
 * const images: AllowedEndpoint = {
 *   method: 'POST',
 *   path: '/v1/images/generations',
 *   price: (body) => ({ costNanos: usd(0.04) * Number((body as { n?: number }).n ?? 1) }),
 * }
 * ```
 */
export interface AllowedEndpoint {
  /** The HTTP method, upper case. */
  method: 'GET' | 'POST' | 'DELETE'
  /** The exact API path from `/v1` on, without a trailing slash or query: `/v1/images/generations`. */
  path: string
  /** The cost of one call from its parsed JSON body (`undefined` for a GET, a DELETE or a non-JSON body). */
  price: (body: unknown) => ProxyPrice | Promise<ProxyPrice>
}

/** A stored object the proxy serves to its owner only. */
export type OwnedObject = 'response' | 'chat.completion'

/** Which of its routes a request matched, with the canonical path that is sent upstream. */
export type ProxyRoute =
  | { kind: 'priced'; path: '/v1/chat/completions' | '/v1/responses' | '/v1/embeddings' }
  | { kind: 'free'; path: string }
  | { kind: 'owned'; path: string; object: OwnedObject; id: string }
  | { kind: 'allowed'; path: string; endpoint: AllowedEndpoint }

const id = '([A-Za-z0-9_-]{1,200})'
const builtIn: readonly {
  method: string
  pattern: RegExp
  route: (match: RegExpExecArray, path: string) => ProxyRoute
}[] = /* @__PURE__ */ (() => [
  { method: 'POST', pattern: /^\/v1\/chat\/completions$/, route: () => priced('/v1/chat/completions') },
  { method: 'POST', pattern: /^\/v1\/responses$/, route: () => priced('/v1/responses') },
  { method: 'POST', pattern: /^\/v1\/embeddings$/, route: () => priced('/v1/embeddings') },
  { method: 'GET', pattern: /^\/v1\/models$/, route: (_, path) => ({ kind: 'free', path }) },
  {
    method: 'GET',
    pattern: /^\/v1\/models\/[A-Za-z0-9._:-]{1,200}$/,
    route: (_, path) => ({ kind: 'free', path }),
  },
  ...['GET', 'DELETE'].flatMap((method) => [
    { method, pattern: new RegExp(`^/v1/responses/${id}$`), route: owned('response') },
    { method, pattern: new RegExp(`^/v1/chat/completions/${id}$`), route: owned('chat.completion') },
  ]),
  { method: 'GET', pattern: new RegExp(`^/v1/responses/${id}/input_items$`), route: owned('response') },
  {
    method: 'GET',
    pattern: new RegExp(`^/v1/chat/completions/${id}/messages$`),
    route: owned('chat.completion'),
  },
])()

function priced(path: '/v1/chat/completions' | '/v1/responses' | '/v1/embeddings'): ProxyRoute {
  return { kind: 'priced', path }
}

function owned(object: OwnedObject) {
  return (match: RegExpExecArray, path: string): ProxyRoute => ({
    kind: 'owned',
    path,
    object,
    id: match[1] as string,
  })
}

/** The path as the allowlist reads it: from `/v1/` on, repeated slashes and one trailing slash dropped. */
function canonicalPath(pathname: string): string | undefined {
  const at = pathname.indexOf('/v1/')
  if (at === -1) return undefined
  const path = pathname.slice(at).replace(/\/{2,}/g, '/')
  // An escape (%2F, %2e…) would mean something else to whoever decodes it next: refused, never decoded.
  if (path.includes('%')) return undefined
  return path.length > 4 && path.endsWith('/') ? path.slice(0, -1) : path
}

/**
 * Match a proxied request against what the proxy serves: keyguard's priced endpoints, free model
 * reads, the caller's own stored objects and the operator's opted-in endpoints, by exact method and
 * canonical path. Anything else is refused with `proxy.endpoint_not_allowed` before a byte is sent.
 *
 * @example
 * ```ts
 * const route = matchProxyRoute('POST', new URL(request.url).pathname, [])
 * route.path // '/v1/chat/completions': what is sent upstream
 * ```
 */
export function matchProxyRoute(
  method: string,
  pathname: string,
  allow: readonly AllowedEndpoint[],
): ProxyRoute {
  const path = canonicalPath(pathname)
  if (path !== undefined) {
    for (const entry of builtIn) {
      if (entry.method !== method) continue
      const match = entry.pattern.exec(path)
      if (match) return entry.route(match, path)
    }
    const endpoint = allow.find((candidate) => candidate.method === method && candidate.path === path)
    if (endpoint) return { kind: 'allowed', path, endpoint }
  }
  const shown = (path ?? pathname).slice(0, 200)
  throw new KeyguardError({
    code: 'proxy.endpoint_not_allowed',
    message: `proxy: ${method} ${shown} is not an endpoint the proxy serves`,
    userMessage: `Invalid URL (${method.slice(0, 10)} ${shown}): this endpoint is not available through this proxy.`,
    operatorHint:
      'the proxy serves what keyguard prices (chat completions, responses, embeddings), model reads and the caller’s own stored objects; opt another endpoint in with openaiProxy({ allow: [{ method, path, price }] })',
    details: { method, path: shown },
  })
}

/** The built-in method and path pairs, for validating `allow`: an opt-in may not shadow one. */
export function isBuiltInRoute(method: string, path: string): boolean {
  return builtIn.some((entry) => entry.method === method && entry.pattern.test(path))
}
