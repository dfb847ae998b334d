import { classifyOpenAIError } from '../errors/classify-openai-error'
import { isKeyguardError, type KeyguardError } from '../errors/keyguard-error'
import { guardedRequestOf } from './guard-request'

/**
 * The {@link KeyguardError} an adapter's error handler answers for an error a route threw, or
 * `undefined` when the error is not about an OpenAI call (the app's own handler gets it):
 * - a `KeyguardError`, itself or anywhere in its `cause` chain (openai-node wraps a guarded fetch that
 *   failed, such as `upstream.connection`, into its `APIConnectionError` with the error as `cause`);
 * - an openai-node `APIError` raised for a call keyguard refused or answered with an upstream error:
 *   the error recorded for `owner`, the framework's request object (see `guardRequest`);
 * - any other openai-node `APIError` (a client keyguard does not guard, an SDK timeout): classified
 *   with {@link classifyOpenAIError}, so the client gets its safe status and message, never a stack trace.
 *
 * @example
 * ```ts
 * app.onError((error, c) => {
 *   const refusal = keyguardErrorBehind(error, c.req.raw)
 *   return refusal ? errorResponse(refusal) : c.text('Internal Server Error', 500)
 * })
 * ```
 */
export function keyguardErrorBehind(error: unknown, owner?: object): KeyguardError | undefined {
  const seen = new Set<unknown>()
  for (let current = error; isObject(current) && !seen.has(current); current = current.cause) {
    if (isKeyguardError(current)) return current
    seen.add(current)
  }
  if (!isOpenAIAPIError(error)) return undefined
  const recorded = typeof error.status === 'number' && owner ? guardedRequestOf(owner)?.error : undefined
  return recorded ?? classifyOpenAIError(error)
}

function isObject(value: unknown): value is { cause?: unknown } {
  return typeof value === 'object' && value !== null
}

// openai-node's APIError (and its subclasses, also APIConnectionError) sets these fields in its
// constructor; shape, not class, so two copies of the SDK (ESM and CJS) both count.
function isOpenAIAPIError(
  error: unknown,
): error is Error & { status: unknown; error: unknown; message: string } {
  return (
    error instanceof Error &&
    'status' in error &&
    'headers' in error &&
    'error' in error &&
    'requestID' in error
  )
}
