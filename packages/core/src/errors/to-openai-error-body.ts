import type { KeyguardError } from './keyguard-error'

/** An error body in OpenAI's shape, for OpenAI-compatible routes. */
export interface OpenAIErrorBody {
  error: { message: string; type: string; code: string; param: string | null }
}

function typeFor(error: KeyguardError): string {
  if (error.code === 'rate.tokens') return 'tokens'
  // a spent budget is a quota (as OpenAI types its own), even though it answers 429 like a rate limit
  if (
    error.code.startsWith('quota.') ||
    error.code === 'credits.exhausted' ||
    error.code === 'budget.hard_limit'
  )
    return 'insufficient_quota'
  if (error.clientStatus === 429) return 'requests'
  if (error.clientStatus >= 500) return 'server_error'
  return 'invalid_request_error'
}

/**
 * Turn a {@link KeyguardError} into an error body in OpenAI's shape, so any OpenAI client (openai-python,
 * openai-node, LangChain) reads it as it reads OpenAI's own: the user-safe message, keyguard's code,
 * and a `type` such clients know. Never the operator hint or the key.
 *
 * @example
 * ```ts
 * return Response.json(toOpenAIErrorBody(error), { status: error.clientStatus })
 * ```
 */
export function toOpenAIErrorBody(error: KeyguardError): OpenAIErrorBody {
  const param = error.code.startsWith('request.') ? (error.upstream?.param ?? null) : null
  return { error: { message: error.userMessage, type: typeFor(error), code: error.code, param } }
}
