import { KeyguardError } from './keyguard-error'
import { toProblemJson } from './problem-json'
import { toOpenAIErrorBody } from './to-openai-error-body'

/** Options for {@link errorResponse}. */
export interface ErrorResponseOptions {
  /**
   * `problem`: an RFC 9457 `application/problem+json` body, for an app's own clients. `openai`: the same
   * problem details with OpenAI's `{ error: { message, type, code, param } }` as an extension member, so
   * one body serves both: OpenAI clients (openai-node, openai-python, LangChain) read `error` from any
   * JSON body and raise their own typed errors, while problem+json readers see RFC 9457.
   * @default 'problem'
   */
  format?: 'problem' | 'openai'
  /** Answer with this status (the body's `status` too) instead of the error's client status. @default error.clientStatus */
  status?: number
}

/**
 * The one retry policy every error response of keyguard states, a local refusal's and an upstream
 * error's alike: `x-keyguard-error-code`, `x-should-retry` (`error.retryable`, so openai-node sends a
 * quota or auth error once), and `retry-after-ms` / `Retry-After` (`error.retryAfterMs`, in seconds
 * rounded up) when known.
 *
 * @example
 * ```ts
 * const headers = new Headers(retryHeaders(error))
 * ```
 */
export function retryHeaders(error: KeyguardError): [string, string][] {
  const headers: [string, string][] = [
    ['x-keyguard-error-code', error.code],
    ['x-should-retry', String(error.retryable)],
  ]
  if (error.retryAfterMs !== undefined)
    headers.push(
      ['retry-after-ms', String(error.retryAfterMs)],
      ['retry-after', String(Math.ceil(error.retryAfterMs / 1000))],
    )
  return headers
}

/**
 * Answer a {@link KeyguardError} as an HTTP response that is safe to send: its client status, the
 * user message only (never the operator hint, a key or upstream internals), `Retry-After` and
 * `retry-after-ms` when known, and `x-should-retry` so OpenAI clients back off or give up correctly.
 * Body and headers say one thing, read from the error: `x-should-retry` and the body's `retryable` are
 * `error.retryable`; `retry-after-ms` is `error.retryAfterMs`, `Retry-After` and the body's `retryAfter`
 * the same in seconds, rounded up; the body's `status` is the response's.
 *
 * @example
 * ```ts
 * app.onError((error) => (isKeyguardError(error) ? errorResponse(error) : new Response('error', { status: 500 })))
 * ```
 */
export function errorResponse(
  error: KeyguardError,
  { format = 'problem', status = error.clientStatus }: ErrorResponseOptions = {},
): Response {
  const headers = new Headers([['content-type', 'application/problem+json'], ...retryHeaders(error)])
  const problem = { ...toProblemJson(error), status }
  const body = format === 'openai' ? { ...problem, error: toOpenAIErrorBody(error).error } : problem
  return new Response(JSON.stringify(body), { status, headers })
}

/**
 * The answer of an adapter's shared `fetch` called outside a request its middleware guards: 500
 * `scope.missing` in OpenAI's error format, so nothing is sent unguarded; `operatorHint` says what to register.
 *
 * @example
 * ```ts
 * if (!guard) return outsideRequestResponse('register app.use(keyguard({ guard, scope })) first')
 * ```
 */
export function outsideRequestResponse(operatorHint: string): Response {
  return errorResponse(
    new KeyguardError({
      code: 'scope.missing',
      message: 'keyguardFetch() was called outside a request keyguard() guards, so nobody pays for it',
      operatorHint,
    }),
    { format: 'openai' },
  )
}
