import { isKeyguardError, toProblemJson } from '@keyguard/core'
import type { ErrorRequestHandler } from 'express'

/** Options for {@link keyguardErrorHandler}. */
export interface KeyguardErrorHandlerOptions {
  /** Where operator hints go. @default no logging */
  logger?: { warn(message: string, details?: Record<string, unknown>): void }
}

/**
 * Express error handler that answers a `KeyguardError` with its client status and an
 * `application/problem+json` body, plus `Retry-After` when known. Other errors pass through.
 *
 * @example
 * ```ts
 * app.use(keyguardErrorHandler({ logger: console }))
 * ```
 */
export function keyguardErrorHandler({ logger }: KeyguardErrorHandlerOptions = {}): ErrorRequestHandler {
  return function keyguardErrorHandlerMiddleware(error, _req, res, next) {
    if (!isKeyguardError(error) || res.headersSent) return next(error)
    logger?.warn(`keyguard: ${error.code}: ${error.operatorHint}`, { code: error.code })
    if (error.retryAfterMs !== undefined)
      res.setHeader('Retry-After', String(Math.ceil(error.retryAfterMs / 1000)))
    res
      .status(error.clientStatus)
      .type('application/problem+json')
      .send(JSON.stringify(toProblemJson(error)))
  }
}
