import { checkOptions, type Logger } from '@keyguard/core'
import { errorResponse, keyguardErrorBehind } from '@keyguard/core/adapter'
import type { ErrorHandler } from 'hono'
import { HTTPException } from 'hono/http-exception'

/** Options for {@link keyguardErrorHandler}. */
export interface KeyguardErrorHandlerOptions {
  /** Where operator hints go. @default no logging */
  logger?: Logger
  /**
   * Answers errors that are not keyguard's. @default a Hono `HTTPException` (from `bearerAuth`, `jwt`,
   * a validator) answers with its own response, as Hono's default handler does; anything else is rethrown
   */
  fallback?: ErrorHandler
  /** `problem`: `application/problem+json`; `openai`: OpenAI's error body, for OpenAI clients. @default 'problem' */
  format?: 'problem' | 'openai'
}

/**
 * Hono `app.onError` handler that answers a `KeyguardError` with its client status, `Retry-After`
 * when known and a body that never shows the key, a stack trace or upstream internals. It also
 * answers what an OpenAI client raised around a guarded call: keyguard's refusal behind an
 * `APIError`, a `KeyguardError` in the `cause` chain (an unreachable upstream is 502
 * `upstream.connection`), and other openai-node `APIError`s, classified (see `keyguardErrorBehind`
 * in `@keyguard/core`).
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
    const keyguardError = keyguardErrorBehind(error, c.req.raw)
    if (!keyguardError) {
      if (fallback) return fallback(error, c)
      // Auth middleware signals a 401 by throwing; without this an app that adds keyguard's handler
      // would turn its own sign-in refusals into crashes.
      if (error instanceof HTTPException) return error.getResponse()
      throw error
    }
    logger?.warn(`keyguard: ${keyguardError.code}: ${keyguardError.operatorHint}`, {
      code: keyguardError.code,
    })
    return errorResponse(keyguardError, { format })
  }
}
