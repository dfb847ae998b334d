import * as z from 'zod/mini'
import { isKeyguardError, KeyguardError } from '../errors/keyguard-error'
import type { Keyguard } from '../guard/create-keyguard'
import { parseOptions } from '../limits/limit-policy'
import { positiveSchema } from '../limits/rule-schemas'
import { errorResponse } from './error-response'
import { guardRequest, type ResponseHeaderOptions } from './guard-request'
import { type VirtualKeyScope, type VirtualKeys, virtualKeys } from './virtual-keys'

/** Options for {@link createOpenAIProxy}. */
export interface OpenAIProxyOptions extends ResponseHeaderOptions {
  /** The callers' virtual keys, each mapped to the scope it pays from (see `virtualKeys`). */
  keys: VirtualKeys | Readonly<Record<string, VirtualKeyScope>>
  /** Larger request bodies are refused with 413 before anything is read past the limit. @default 4_194_304 (4 MiB) */
  maxBodyBytes?: number
}

/** Serves one proxied request through the guard with the real key; `waitUntil` keeps settlement alive on Workers. */
export type OpenAIProxyHandler = (
  request: Request,
  guard: Keyguard,
  context?: { waitUntil?: (promise: Promise<unknown>) => void },
) => Promise<Response>

const schema = z.strictObject({
  keys: z.custom<OpenAIProxyOptions['keys']>(
    (value) => typeof value === 'object' && value !== null,
    'must map virtual keys (or their sha256: hashes) to scopes: { [hash]: { tenant: "acme" } }',
  ),
  maxBodyBytes: z.optional(positiveSchema),
  // ResponseHeaderOptions, passed on to guardRequest
  rateLimitHeaders: z.optional(z.union([z.boolean(), z.strictObject({ spend: z.optional(z.boolean()) })])),
  costHeaders: z.optional(z.boolean()),
  now: z.optional(
    z.custom<() => number>((value) => typeof value === 'function', 'must be a function returning epoch ms'),
  ),
})

// What an OpenAI client may send on: nothing that carries credentials or framing.
const forwardedRequestHeaders = ['content-type', 'accept', 'openai-beta', 'idempotency-key']
// What the operator's account says about itself stays with the operator.
const privateResponseHeaders = /^(openai-organization|openai-project|x-ratelimit-|set-cookie)/i

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
    ...parsedHeaderOptions
  } = parseOptions(schema, options, 'openaiProxy')
  const headerOptions = parsedHeaderOptions as ResponseHeaderOptions
  const lookup: VirtualKeys =
    typeof keys.find === 'function'
      ? (keys as VirtualKeys)
      : virtualKeys(keys as Record<string, VirtualKeyScope>)
  return async function openaiProxyHandler(request, guard, context) {
    try {
      const url = new URL(request.url)
      const at = url.pathname.indexOf('/v1/')
      if (at === -1) throw invalid('the path has no /v1/ segment', 'Unknown API path.', 404)
      const token = /^Bearer\s+(\S+)$/i.exec(request.headers.get('authorization') ?? '')?.[1]
      const scope = token === undefined ? undefined : await lookup.find(token)
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
      const body =
        request.method === 'GET' || request.method === 'HEAD'
          ? undefined
          : await readBody(request, maxBodyBytes)
      const isJson = /json/i.test(request.headers.get('content-type') ?? 'application/json')
      // JSON goes on as text, for the guard to estimate; uploads (audio, files) as bytes, untouched.
      let forwarded: BodyInit | undefined = body && new Blob([body])
      if (body && isJson) {
        forwarded = new TextDecoder().decode(body)
        try {
          JSON.parse(forwarded)
        } catch {
          throw invalid('the request body is not valid JSON', 'The request body is not valid JSON.', 400)
        }
      }
      const headers = new Headers()
      for (const name of forwardedRequestHeaders) {
        const value = request.headers.get(name)
        if (value !== null) headers.set(name, value)
      }
      const guarded = guardRequest(guard, scope, headerOptions)
      const upstream = await guarded.guard.fetch(
        `https://api.openai.com${url.pathname.slice(at)}${url.search}`,
        {
          method: request.method,
          headers,
          ...(forwarded === undefined ? {} : { body: forwarded }),
          signal: request.signal,
        },
      )
      context?.waitUntil?.(guarded.settled())
      const stream = (upstream.headers.get('content-type') ?? '').includes('text/event-stream')
      // A JSON answer is whole anyway: reading it here lets the settled cost ride on its headers.
      const payload = headerOptions.costHeaders && !stream ? await upstream.arrayBuffer() : upstream.body
      if (payload !== upstream.body) await guarded.costReady()
      const responseHeaders = new Headers()
      for (const [name, value] of upstream.headers)
        if (!privateResponseHeaders.test(name)) responseHeaders.set(name, value)
      for (const [name, value] of Object.entries(guarded.headers())) responseHeaders.set(name, value)
      return new Response(payload, {
        status: upstream.status,
        statusText: upstream.statusText,
        headers: responseHeaders,
      })
    } catch (error) {
      if (isKeyguardError(error)) return errorResponse(error, { format: 'openai' })
      throw error
    }
  }
}

function invalid(message: string, userMessage: string, clientStatus: number): KeyguardError {
  return new KeyguardError({
    code: 'request.invalid',
    message: `proxy: ${message}`,
    userMessage,
    clientStatus,
  })
}

async function readBody(request: Request, maxBytes: number): Promise<Uint8Array<ArrayBuffer> | undefined> {
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
  return size === 0 ? undefined : new Uint8Array(await new Blob(chunks as BlobPart[]).arrayBuffer())
}
