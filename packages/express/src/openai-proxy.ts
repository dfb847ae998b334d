import {
  checkOptions,
  createOpenAIProxy,
  isKeyguardError,
  type Keyguard,
  type KeyguardOptions,
  type OpenAIProxyOptions,
} from '@keyguard/core'
import { errorResponse, movedResponseHeaderOptions, toKeyguard } from '@keyguard/core/adapter'
import type { RequestHandler } from 'express'
import { sendWebResponse } from './send-web-response'
import { toWebRequest } from './to-web-request'

/** Options for {@link openaiProxy}. */
export interface OpenAIProxyMiddlewareOptions extends OpenAIProxyOptions {
  /** The guard, or the options to build one with `createKeyguard`. */
  guard: Keyguard | KeyguardOptions
}

/**
 * An OpenAI-compatible route: any OpenAI client (openai-python, curl, LangChain) can use it as its
 * base URL with a virtual key; calls go through the guard with the real key under the key's scope,
 * streams pass through, and refusals are OpenAI-shaped errors with `Retry-After` and `x-should-retry`.
 * Mount it before or after body parsers: a body `express.json()`, `express.raw()` or `express.text()`
 * already read is forwarded as it was sent; one read into what cannot be (a parsed form) is refused.
 *
 * @example
 * ```ts
 * app.use('/v1', openaiProxy({ guard, keys: { [process.env.ACME_KEY_HASH!]: { tenant: 'acme' } } }))
 * // OPENAI_BASE_URL=http://localhost:3000/v1 OPENAI_API_KEY=<virtual key> python app.py
 * ```
 */
export function openaiProxy(middlewareOptions: OpenAIProxyMiddlewareOptions): RequestHandler {
  checkOptions(
    'openaiProxy',
    middlewareOptions,
    ['guard', 'keys', 'maxBodyBytes', 'allow', 'owner', 'ownershipTtlMs', 'rateLimitHeaders', 'costHeaders'],
    [],
    movedResponseHeaderOptions,
  )
  const { guard, ...options } = middlewareOptions
  const resolved = toKeyguard(guard)
  const handle = createOpenAIProxy(options)
  return function openaiProxyMiddleware(req, res, next) {
    const controller = new AbortController()
    res.once('close', () => {
      if (!res.writableFinished) controller.abort()
    })
    Promise.resolve()
      .then(() => handle(toWebRequest(req, controller.signal), resolved))
      // toWebRequest refuses a body a parser read into what cannot be forwarded, as the proxy would.
      .catch((error: unknown) => {
        if (isKeyguardError(error)) return errorResponse(error, { format: 'openai' })
        throw error
      })
      .then((response) => sendWebResponse(res, response))
      .catch(next)
  }
}
