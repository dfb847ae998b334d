import { errorResponse, guardedRequestOf, isKeyguardError, type KeyguardError } from '@keyguard/core'
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
 * OpenAI client raised for a call keyguard refused, and answers with keyguard's error instead.
 * The operator hint goes to `logger`. Other errors pass on.
 *
 * @example
 * ```ts
 * app.use(keyguardErrorHandler({ logger: console }))
 * ```
 */
export function keyguardErrorHandler({
  logger,
  format = 'problem',
}: KeyguardErrorHandlerOptions = {}): ErrorRequestHandler {
  return function keyguardErrorHandlerMiddleware(error, req, res, next) {
    const keyguardError = isKeyguardError(error) ? error : refusalBehind(error, req)
    if (!keyguardError || res.headersSent) return next(error)
    logger?.warn(`keyguard: ${keyguardError.code}: ${keyguardError.operatorHint}`, {
      code: keyguardError.code,
    })
    sendWebResponse(res, errorResponse(keyguardError, { format }))
  }
}

// openai-node turns keyguard's error Response into its own APIError, which carries the HTTP status.
function refusalBehind(error: unknown, req: Parameters<ErrorRequestHandler>[1]): KeyguardError | undefined {
  const status = (error as { status?: unknown } | null)?.status
  return typeof status === 'number' ? guardedRequestOf(req)?.error : undefined
}
