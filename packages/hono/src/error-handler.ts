import { checkOptions, errorResponse, guardedRequestOf, isKeyguardError } from '@keyguard/core'
import type { ErrorHandler } from 'hono'

/** Options for {@link keyguardErrorHandler}. */
export interface KeyguardErrorHandlerOptions {
  /** Where operator hints go. @default no logging */
  logger?: { warn(message: string, details?: Record<string, unknown>): void }
  /** Answers errors that are not keyguard's. @default rethrows them to Hono's default handler */
  fallback?: ErrorHandler
  /** `problem`: `application/problem+json`; `openai`: OpenAI's error body, for OpenAI clients. @default 'problem' */
  format?: 'problem' | 'openai'
}

/**
 * Hono `app.onError` handler that answers a `KeyguardError` with its client status, `Retry-After`
 * when known and a body that never shows the key or upstream internals. It also recognises the
 * error an OpenAI client raised for a call keyguard refused, and answers with keyguard's error.
 *
 * @example
 * ```ts
 * app.onError(keyguardErrorHandler({ logger: console }))
 * ```
 */
export function keyguardErrorHandler(options: KeyguardErrorHandlerOptions = {}): ErrorHandler {
  checkOptions('keyguardErrorHandler', options, ['logger', 'fallback', 'format'])
  const { logger, fallback, format = 'problem' } = options
  return function keyguardOnError(error, c) {
    // openai-node turns keyguard's error Response into its own APIError, which carries the HTTP status.
    const status = (error as { status?: unknown }).status
    const keyguardError = isKeyguardError(error)
      ? error
      : typeof status === 'number'
        ? guardedRequestOf(c.req.raw)?.error
        : undefined
    if (!keyguardError) {
      if (fallback) return fallback(error, c)
      throw error
    }
    logger?.warn(`keyguard: ${keyguardError.code}: ${keyguardError.operatorHint}`, {
      code: keyguardError.code,
    })
    return errorResponse(keyguardError, { format })
  }
}
