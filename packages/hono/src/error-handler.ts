import { isKeyguardError, toProblemJson } from '@keyguard/core'
import type { ErrorHandler } from 'hono'

/** Options for {@link keyguardErrorHandler}. */
export interface KeyguardErrorHandlerOptions {
  /** Where operator hints go. @default no logging */
  logger?: { warn(message: string, details?: Record<string, unknown>): void }
  /** Answers errors that are not keyguard's. @default rethrows them to Hono's default handler */
  fallback?: ErrorHandler
}

/**
 * Hono `app.onError` handler that answers a `KeyguardError` with its client status and an
 * `application/problem+json` body, plus `Retry-After` when known.
 *
 * @example
 * ```ts
 * app.onError(keyguardErrorHandler({ logger: console }))
 * ```
 */
export function keyguardErrorHandler({ logger, fallback }: KeyguardErrorHandlerOptions = {}): ErrorHandler {
  return function keyguardOnError(error, c) {
    if (!isKeyguardError(error)) {
      if (fallback) return fallback(error, c)
      throw error
    }
    logger?.warn(`keyguard: ${error.code}: ${error.operatorHint}`, { code: error.code })
    const headers = new Headers({ 'content-type': 'application/problem+json' })
    if (error.retryAfterMs !== undefined)
      headers.set('retry-after', String(Math.ceil(error.retryAfterMs / 1000)))
    return new Response(JSON.stringify(toProblemJson(error)), { status: error.clientStatus, headers })
  }
}
