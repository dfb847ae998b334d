import {
  checkOptions,
  createOpenAIProxy,
  KeyguardError,
  type Logger,
  type OpenAIProxyOptions,
} from '@keyguard/core'
import { errorResponse, movedResponseHeaderOptions, takeBufferedBody } from '@keyguard/core/adapter'
import type { Context } from 'hono'
import { createMiddleware } from 'hono/factory'
import { type GuardSource, perRequest } from './per-request'

/** Options for {@link openaiProxy}. */
export interface OpenAIProxyMiddlewareOptions extends OpenAIProxyOptions {
  guard: GuardSource
  /** Receives the once-per-process warning when `c.executionCtx.waitUntil` is missing on Workers and the like. @default console */
  logger?: Logger
  /** Warnings to leave out, by name. @default [] */
  ignoreWarnings?: readonly 'no-wait-until'[]
}

/**
 * An OpenAI-compatible route for any OpenAI client (openai-python, curl, LangChain) to use as its
 * base URL with a virtual key; calls go through the guard with the real key under the key's scope,
 * streams pass through, and refusals are OpenAI-shaped errors with `Retry-After` and `x-should-retry`.
 *
 * @example
 * ```ts
 * app.all('/v1/*', openaiProxy({ guard: (bindings) => ({ key: String(bindings.OPENAI_API_KEY) }), keys }))
 * ```
 */
export function openaiProxy(middlewareOptions: OpenAIProxyMiddlewareOptions) {
  checkOptions(
    'openaiProxy',
    middlewareOptions,
    [
      'guard',
      'logger',
      'ignoreWarnings',
      'keys',
      'maxBodyBytes',
      'allow',
      'owner',
      'ownershipTtlMs',
      'rateLimitHeaders',
      'costHeaders',
    ],
    [],
    movedResponseHeaderOptions,
  )
  const { guard, logger, ignoreWarnings, ...options } = middlewareOptions
  const { guardOf, keepAlive } = perRequest({ guard, logger, ignoreWarnings })
  const handle = createOpenAIProxy(options)
  return createMiddleware(async function openaiProxyHandler(c) {
    const request = await unreadRequest(c)
    const response =
      request instanceof Response
        ? request
        : await handle(request, guardOf(c), {
            waitUntil: (settled) =>
              keepAlive(
                c,
                settled.then(() => {}),
              ),
          })
    // Through c.newResponse, so headers a middleware set first with c.header() (a session's Set-Cookie
    // values) are kept: Hono drops them from a Response returned as it is.
    // A JSON answer's bytes as they are: a server like @hono/node-server writes them without a stream.
    return c.newResponse(takeBufferedBody(response) ?? response.body, response)
  })
}

// A middleware before the proxy (a validator, a logger) may have read the body through c.req, which
// keeps it: forward those bytes. A body read any other way is gone, and refused rather than dropped.
async function unreadRequest(c: Context): Promise<Request | Response> {
  const raw = c.req.raw
  if (!raw.bodyUsed) return raw
  const { text, arrayBuffer, blob, json } = c.req.bodyCache
  if (!text && !arrayBuffer && !blob && !json) {
    const error = new KeyguardError({
      code: 'request.invalid',
      message: "openaiProxy(): the request body was read before the proxy and Hono's c.req kept no copy",
      operatorHint:
        'read bodies before openaiProxy() only through c.req (c.req.json(), c.req.text(), c.req.arrayBuffer())',
      userMessage: 'The request body is not valid JSON.',
      clientStatus: 400,
    })
    return errorResponse(error, { format: 'openai' })
  }
  const headers = new Headers(raw.headers)
  headers.delete('content-length')
  return new Request(raw.url, {
    method: raw.method,
    headers,
    body: await c.req.arrayBuffer(),
    signal: raw.signal,
  })
}
