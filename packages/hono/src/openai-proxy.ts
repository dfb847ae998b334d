import { checkOptions, createOpenAIProxy, type OpenAIProxyOptions } from '@keyguard/core'
import { createMiddleware } from 'hono/factory'
import { type GuardSource, type HonoLogger, perRequest } from './per-request'

/** Options for {@link openaiProxy}. */
export interface OpenAIProxyMiddlewareOptions extends OpenAIProxyOptions {
  guard: GuardSource
  /** Receives the one-time warning when `c.executionCtx.waitUntil` is missing. @default console */
  logger?: HonoLogger
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
  checkOptions('openaiProxy', middlewareOptions, [
    'guard',
    'logger',
    'ignoreWarnings',
    'keys',
    'maxBodyBytes',
    'rateLimitHeaders',
    'costHeaders',
    'now',
  ])
  const { guard, logger, ignoreWarnings, ...options } = middlewareOptions
  const { guardOf, keepAlive } = perRequest({ guard, logger, ignoreWarnings })
  const handle = createOpenAIProxy(options)
  return createMiddleware(async function openaiProxyHandler(c) {
    return handle(c.req.raw, guardOf(c), {
      waitUntil: (settled) =>
        keepAlive(
          c,
          settled.then(() => {}),
        ),
    })
  })
}
