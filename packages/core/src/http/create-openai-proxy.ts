import * as z from 'zod/mini'
import { parseOptions } from '../config/parse-options'
import { errorResponse } from '../errors/error-response'
import { isKeyguardError, KeyguardError } from '../errors/keyguard-error'
import { parseJson } from '../estimate/parse-json'
import { storeOf } from '../guard/bind-keyguard'
import { bufferedResponse, takeBufferedBody } from '../guard/buffered-response'
import type { Keyguard } from '../guard/create-keyguard'
import { withFixedPrice } from '../guard/fixed-price'
import { proxyForwardedRequestHeaders, proxyPrivateResponseHeaders } from '../guard/header-pairs'
import { withParsedBody } from '../guard/parsed-body'
import { concat } from '../guard/sse-bytes'
import { positiveSchema } from '../limits/rule-schemas'
import { guardRequest, movedResponseHeaderOptions, type ResponseHeaderOptions } from './guard-request'
import {
  claimFromJson,
  claimFromStream,
  foreignReference,
  ownerOfScope,
  ownsObject,
  type ProxyOwnership,
  unknownObjectResponse,
  unknownPreviousResponse,
} from './proxy-ownership'
import { type AllowedEndpoint, isBuiltInRoute, matchProxyRoute, type ProxyRoute } from './proxy-routes'
import { type VirtualKeyScope, type VirtualKeys, virtualKeys } from './virtual-keys'

/** Options for {@link createOpenAIProxy}. */
export interface OpenAIProxyOptions extends ResponseHeaderOptions {
  /** The callers' virtual keys, each mapped to the scope it pays from (see `virtualKeys`). */
  keys: VirtualKeys | Readonly<Record<string, VirtualKeyScope>>
  /** Larger request bodies are refused with 413 before anything is read past the limit. @default 4_194_304 (4 MiB) */
  maxBodyBytes?: number
  /**
   * Endpoints to serve beyond keyguard's own (chat completions, responses, embeddings, model reads,
   * the caller's stored responses and chat completions), each with the price every call is held and
   * charged at. Anything else is refused with 404 `proxy.endpoint_not_allowed`. @default []
   */
  allow?: readonly AllowedEndpoint[]
  /**
   * Who owns the objects a caller creates (stored responses and chat completions): only the same
   * owner may read or delete them. @default every entry of the virtual key's scope (`tenant=acme&user=u9`)
   */
  owner?: (scope: VirtualKeyScope) => string
  /** How long the store remembers who created a stored object (OpenAI keeps responses 30 days). @default 2_592_000_000 (30 days) */
  ownershipTtlMs?: number
}

/** Serves one proxied request through the guard with the real key; `waitUntil` keeps settlement alive on Workers. */
export type OpenAIProxyHandler = (
  request: Request,
  guard: Keyguard,
  context?: { waitUntil?: (promise: Promise<unknown>) => void },
) => Promise<Response>

const schema = /* @__PURE__ */ (() =>
  z.strictObject({
    keys: z.custom<OpenAIProxyOptions['keys']>(
      (value) => typeof value === 'object' && value !== null,
      'must map virtual keys (or their sha256: hashes) to scopes: { [hash]: { tenant: "acme" } }',
    ),
    maxBodyBytes: z.optional(positiveSchema),
    allow: z.optional(
      z.array(
        z
          .strictObject({
            method: z.enum(['GET', 'POST', 'DELETE']),
            path: z
              .string()
              .check(
                z.regex(
                  /^\/v1(\/[A-Za-z0-9._-]+)+$/,
                  'must be an exact API path such as /v1/images/generations',
                ),
              ),
            price: z.custom<AllowedEndpoint['price']>(
              (value) => typeof value === 'function',
              'must be a function of the body returning { costNanos }: an opted-in endpoint is never free by omission',
            ),
          })
          .check(
            z.refine((entry) => !isBuiltInRoute(entry.method, entry.path), {
              message: 'is served by the proxy already; remove it from allow',
            }),
          ),
      ),
    ),
    owner: z.optional(z.custom<(scope: VirtualKeyScope) => string>((value) => typeof value === 'function')),
    ownershipTtlMs: z.optional(positiveSchema),
    // ResponseHeaderOptions, passed on to guardRequest
    rateLimitHeaders: z.optional(z.union([z.boolean(), z.strictObject({ spend: z.optional(z.boolean()) })])),
    costHeaders: z.optional(z.boolean()),
  }))()

/**
 * The OpenAI-compatible proxy as a Web `Request → Response` handler: callers authenticate with a
 * virtual key, the body is checked (size, JSON), the call goes through the guard with the real key
 * under the key's scope, streams pass through untouched, and every refusal is an OpenAI-shaped error
 * with `Retry-After` and `x-should-retry`. Express and Hono mount it as `openaiProxy()`.
 *
 * @example
 * ```ts
 * const proxy = createOpenAIProxy({ keys: { 'sha256:5e88…': { tenant: 'acme' } } })
 * export default { fetch: (request: Request) => proxy(request, guard) }
 * ```
 */
export function createOpenAIProxy(options: OpenAIProxyOptions): OpenAIProxyHandler {
  const {
    keys,
    maxBodyBytes = 4 * 1024 * 1024,
    allow = [],
    owner: ownerOf = ownerOfScope,
    ownershipTtlMs = 30 * 86_400_000,
    ...parsedHeaderOptions
  } = parseOptions(schema, options, 'openaiProxy', { moved: movedResponseHeaderOptions })
  const headerOptions = parsedHeaderOptions as ResponseHeaderOptions
  const lookup: VirtualKeys =
    typeof keys.find === 'function'
      ? (keys as VirtualKeys)
      : virtualKeys(keys as Record<string, VirtualKeyScope>)
  return async function openaiProxyHandler(request, guard, context) {
    try {
      const url = new URL(request.url)
      const token = /^Bearer\s+(\S+)$/i.exec(request.headers.get('authorization') ?? '')?.[1]
      const found = token === undefined ? undefined : lookup.find(token)
      const scope = found instanceof Promise ? await found : found
      if (!scope)
        throw new KeyguardError({
          code: 'client.unauthorized',
          message:
            token === undefined
              ? 'a proxy caller sent no virtual key'
              : 'a proxy caller sent a virtual key that matches none',
          operatorHint:
            'the caller must send Authorization: Bearer <virtual key>; hand out keys from generateVirtualKey()',
        })
      // Only what keyguard prices, frees or owns: the path sent upstream is the canonical one matched.
      const route = matchProxyRoute(request.method, url.pathname, allow)
      const store = storeOf(guard)
      const ownership: ProxyOwnership = {
        owner: ownerOf(scope),
        store: store?.claim && store.ownerOf ? (store as ProxyOwnership['store']) : undefined,
        ttlMs: ownershipTtlMs,
      }
      if (route.kind === 'owned' && !(await ownsObject(ownership, route.id)))
        return unknownObjectResponse(route.object, route.id)
      const prepared = await prepareBody(request, route, maxBodyBytes)
      const { forwarded, json } = prepared
      if (route.kind === 'priced') {
        const previous = json?.previous_response_id
        if (typeof previous === 'string' && !(await ownsObject(ownership, previous)))
          return unknownPreviousResponse(previous)
        const reference = foreignReference(json)
        if (reference !== undefined)
          throw invalid(
            `a request names a stored object by id at ${reference}, which the proxy cannot scope to the caller`,
            `References to stored objects (${reference}) are not available through this proxy.`,
            400,
          )
      }
      const headers = new Headers()
      for (const name of proxyForwardedRequestHeaders) {
        const value = request.headers.get(name)
        if (value !== null) headers.set(name, value)
      }
      if (json) headers.set('content-type', 'application/json')
      const init: RequestInit = {
        method: request.method,
        headers,
        ...(forwarded === undefined ? {} : { body: forwarded }),
        signal: request.signal,
      }
      // The guard takes the object parsed here instead of parsing the text again.
      if (json) withParsedBody(init, json)
      if (route.kind === 'allowed') withFixedPrice(init, await priceOf(route.endpoint, json))
      const guarded = guardRequest(guard, scope, headerOptions)
      const upstream = await guarded.guard.fetch(`https://api.openai.com${route.path}${url.search}`, init)
      context?.waitUntil?.(guarded.settled())
      const stream = (upstream.headers.get('content-type') ?? '').includes('text/event-stream')
      // Stored objects become the caller's: every response, and chat completions with store: true.
      const claims =
        upstream.ok &&
        ((route.path === '/v1/responses' && route.kind === 'priced') ||
          (route.path === '/v1/chat/completions' && json?.store === true))
      // A JSON answer the guard read whole comes as bytes, never as a stream (see bufferedResponse).
      const buffered = takeBufferedBody(upstream)
      let payload: Uint8Array<ArrayBuffer> | ReadableStream<Uint8Array> | null = buffered ?? upstream.body
      // A JSON answer is whole anyway: reading it here lets the settled cost ride on its headers.
      if (!stream && (headerOptions.costHeaders || claims)) {
        payload = buffered ?? new Uint8Array(await upstream.arrayBuffer())
        if (claims) await claimFromJson(ownership, payload).catch(() => {})
        await guarded.costReady()
      } else if (stream && claims && upstream.body) payload = claimFromStream(ownership, upstream.body)
      const responseHeaders = new Headers()
      for (const [name, value] of upstream.headers)
        if (!proxyPrivateResponseHeaders.test(name)) responseHeaders.set(name, value)
      for (const [name, value] of Object.entries(guarded.headers())) responseHeaders.set(name, value)
      const responseInit = {
        status: upstream.status,
        statusText: upstream.statusText,
        headers: responseHeaders,
      }
      return payload instanceof Uint8Array
        ? bufferedResponse(payload, responseInit)
        : new Response(payload, responseInit)
    } catch (error) {
      if (isKeyguardError(error)) return errorResponse(error, { format: 'openai' })
      throw error
    }
  }
}

/**
 * The body to send: priced endpoints take a JSON object (whatever the content type says, so no body
 * slips past the estimate as bytes), opted-in ones JSON as text or anything else as bytes.
 */
async function prepareBody(
  request: Request,
  route: ProxyRoute,
  maxBodyBytes: number,
): Promise<{ forwarded: BodyInit | undefined; json: Record<string, unknown> | undefined }> {
  const body =
    request.method === 'GET' || request.method === 'HEAD' || route.kind === 'owned' || route.kind === 'free'
      ? undefined
      : await readBody(request, maxBodyBytes)
  const isJson = /json/i.test(request.headers.get('content-type') ?? 'application/json')
  if (!body) {
    if (route.kind === 'priced')
      throw invalid('a priced endpoint was called without a body', 'The request body is not valid JSON.', 400)
    return { forwarded: undefined, json: undefined }
  }
  if (!isJson && route.kind !== 'priced')
    return { forwarded: body as Uint8Array<ArrayBuffer>, json: undefined }
  const text = new TextDecoder().decode(body)
  let parsed: unknown
  try {
    // In pieces with turns of the event loop (a 4 MiB body never holds the process); the guard reuses it.
    parsed = await parseJson(text)
  } catch {
    throw invalid('the request body is not valid JSON', 'The request body is not valid JSON.', 400)
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw invalid('the request body is not a JSON object', 'The request body must be a JSON object.', 400)
  return { forwarded: text, json: parsed as Record<string, unknown> }
}

/** The operator's price for an opted-in call; a price that is not a whole number of nanos refuses it. */
async function priceOf(
  endpoint: AllowedEndpoint,
  json: Record<string, unknown> | undefined,
): Promise<number> {
  let costNanos: unknown
  try {
    costNanos = (await endpoint.price(json))?.costNanos
  } catch (cause) {
    costNanos = cause
  }
  if (typeof costNanos === 'number' && Number.isSafeInteger(costNanos) && costNanos >= 0) return costNanos
  throw new KeyguardError({
    code: 'config.invalid',
    message: `openaiProxy: allow[${endpoint.method} ${endpoint.path}].price did not return { costNanos } as a safe integer ≥ 0`,
    operatorHint: 'return { costNanos: usd(0.04) } from the price function; nothing was sent upstream',
  })
}

function invalid(message: string, userMessage: string, clientStatus: number): KeyguardError {
  return new KeyguardError({
    code: 'request.invalid',
    message: `proxy: ${message}`,
    userMessage,
    clientStatus,
  })
}

async function readBody(request: Request, maxBytes: number): Promise<Uint8Array | undefined> {
  const tooLarge = () =>
    new KeyguardError({
      code: 'request.body_too_large',
      message: `proxy: a request body is over maxBodyBytes (${maxBytes})`,
      operatorHint: 'raise maxBodyBytes in openaiProxy() if callers need larger bodies',
    })
  if (Number(request.headers.get('content-length') ?? 0) > maxBytes) throw tooLarge()
  if (!request.body) return undefined
  const chunks: Uint8Array[] = []
  let size = 0
  const reader = request.body.getReader()
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
    size += chunk.value.byteLength
    if (size > maxBytes) {
      await reader.cancel()
      throw tooLarge()
    }
    chunks.push(chunk.value)
  }
  return size === 0 ? undefined : concat(chunks)
}
