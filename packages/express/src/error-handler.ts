import { checkOptions, errorResponse, guardedRequestOf, isKeyguardError, KeyguardError } from '@keyguard/core'
import type { ErrorRequestHandler } from 'express'
import { sendWebResponse } from './send-web-response'

/** Options for {@link keyguardErrorHandler}. */
export interface KeyguardErrorHandlerOptions {
  /** Where operator hints go. @default no logging */
  logger?: { warn(message: string, details?: Record<string, unknown>): void }
  /** `problem`: `application/problem+json`; `openai`: OpenAI's error body, for OpenAI clients. @default 'problem' */
  format?: 'problem' | 'openai'
}

/**
 * Express error handler that answers a `KeyguardError` with its client status, `Retry-After` when
 * known and a body that never shows the key or upstream internals. It also recognises the error an
 * OpenAI client raised for a call keyguard refused, and answers with keyguard's error instead, and
 * answers `express.json()`'s malformed (400) and oversized (413) bodies the same way.
 * The operator hint goes to `logger`. Other errors pass on.
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
    const keyguardError = isKeyguardError(error) ? error : (refusalBehind(error, req) ?? badBody(error))
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

// openai-node turns keyguard's error Response into its own APIError, which carries the HTTP status.
function refusalBehind(error: unknown, req: Parameters<ErrorRequestHandler>[1]): KeyguardError | undefined {
  const status = (error as { status?: unknown } | null)?.status
  return typeof status === 'number' ? guardedRequestOf(req)?.error : undefined
}
