import { describeWait } from './describe-wait'
import type { KeyguardError } from './keyguard-error'

// A client retries a short wait by itself (openai-node waits up to 60 s); a longer one is for a person.
const humanWaitFromMs = 60_000

/** An RFC 9457 problem details body, as keyguard answers a client. */
export interface ProblemJson {
  type: string
  title: string
  status: number
  /** What went wrong, for the client's user; a wait over a minute is added in words: `Try again in 27 days.` */
  detail: string
  code: string
  retryable: boolean
  /** Seconds, rounded up, when the client should retry. */
  retryAfter?: number
}

/**
 * Turn a {@link KeyguardError} into an `application/problem+json` body that is safe to send to a
 * client: the user message only, never the operator hint, the key or upstream internals.
 *
 * @example
 * ```ts
 * return Response.json(toProblemJson(error), {
 *   status: error.clientStatus,
 *   headers: { 'content-type': 'application/problem+json' },
 * })
 * ```
 */
export function toProblemJson(error: KeyguardError): ProblemJson {
  const body: ProblemJson = {
    type: `https://keyguard.dev/errors/${error.code}`,
    title: error.code,
    status: error.clientStatus,
    detail: error.userMessage,
    code: error.code,
    retryable: error.retryable,
  }
  if (error.retryAfterMs !== undefined) {
    body.retryAfter = Math.ceil(error.retryAfterMs / 1000)
    // A spent budget is not retried automatically, yet its reader still wants to know when it resets.
    if (error.retryAfterMs > humanWaitFromMs)
      body.detail = `${body.detail} Try again ${describeWait(error.retryAfterMs)}.`
  }
  return body
}
