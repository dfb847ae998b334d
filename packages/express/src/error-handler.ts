import { checkOptions, KeyguardError, type Logger } from '@keyguard/core'
import { errorResponse, keyguardErrorBehind } from '@keyguard/core/adapter'
import type { ErrorRequestHandler } from 'express'
import { sendWebResponse } from './send-web-response'

/** Options for {@link keyguardErrorHandler}. */
export interface KeyguardErrorHandlerOptions {
  /** Where operator hints go. @default no logging */
  logger?: Logger
  /** `problem`: `application/problem+json`; `openai`: OpenAI's error body, for OpenAI clients. @default 'problem' */
  format?: 'problem' | 'openai'
}

/**
 * Express error handler that answers a `KeyguardError` with its client status, `Retry-After` when
 * known and a body that never shows the key, a stack trace or upstream internals. It also answers
 * what an OpenAI client raised around a guarded call: keyguard's refusal behind an `APIError`, a
 * `KeyguardError` in the `cause` chain (an unreachable upstream is 502 `upstream.connection`), and
 * other openai-node `APIError`s, classified (see `keyguardErrorBehind` in `@keyguard/core`); and
 * `express.json()`'s malformed (400) and oversized (413) bodies. The operator hint goes to `logger`.
 * Other errors pass on.
 *
 * @example
 * ```ts
 * app.use(keyguardErrorHandler({ logger: console }))
 * ```
 */
export function keyguardErrorHandler(options: KeyguardErrorHandlerOptions = {}): ErrorRequestHandler {
  checkOptions('keyguardErrorHandler', options, ['logger', 'format'])
  const { logger, format = 'problem' } = options
  return function keyguardErrorHandlerMiddleware(error, req, res, next) {
    const keyguardError = keyguardErrorBehind(error, req) ?? badBody(error)
    if (!keyguardError || res.headersSent) return next(error)
    logger?.warn(`keyguard: ${keyguardError.code}: ${keyguardError.operatorHint}`, {
      code: keyguardError.code,
    })
    sendWebResponse(res, errorResponse(keyguardError, { format }))
  }
}

// express.json() refuses bodies with typed errors; they get the same answers as the proxy's.
function badBody(error: unknown): KeyguardError | undefined {
  const type = (error as { type?: unknown } | null)?.type
  if (type === 'entity.too.large')
    return new KeyguardError({
      code: 'request.body_too_large',
      message: 'express.json(): the body is over its limit',
    })
  if (type === 'entity.parse.failed')
    return new KeyguardError({
      code: 'request.invalid',
      message: 'express.json(): the body is not valid JSON',
      userMessage: 'The request body is not valid JSON.',
    })
  return undefined
}
