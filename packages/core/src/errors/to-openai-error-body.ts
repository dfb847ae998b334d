import type { KeyguardErrorCode } from './codes'
import type { KeyguardError } from './keyguard-error'

/** An error body in OpenAI's shape, for OpenAI-compatible routes. */
export interface OpenAIErrorBody {
  error: { message: string; type: string; code: string; param: string | null }
}

// keyguard's own refusals of money: OpenAI clients know `insufficient_quota` as OpenAI's billing, so a
// local budget or credit refusal names itself. openai-node decides retries by `x-should-retry` first
// (then status), never by type, so the type changes no client's retries.
const localTypes: Partial<Record<KeyguardErrorCode, string>> = {
  'budget.hard_limit': 'keyguard_budget_exceeded',
  'credits.exhausted': 'keyguard_credits_exhausted',
  'rate.tokens': 'tokens',
  // by code, not status: a rate refusal with a wait over a minute is a 403 (see KeyguardError.clientStatus)
  'rate.requests': 'requests',
  'rate.concurrency': 'requests',
}

function typeFor(error: KeyguardError): string {
  const local = localTypes[error.code]
  if (local !== undefined) return local
  // OpenAI's own billing and spend limits, passed on
  if (error.code.startsWith('quota.')) return 'insufficient_quota'
  if (error.clientStatus === 429) return 'requests'
  if (error.clientStatus >= 500) return 'server_error'
  return 'invalid_request_error'
}

/**
 * Turn a {@link KeyguardError} into an error body in OpenAI's shape, so any OpenAI client (openai-python,
 * openai-node, LangChain) reads it as it reads OpenAI's own: the user-safe message, keyguard's code,
 * and a `type`: OpenAI's `tokens` / `requests` for rate limits, `keyguard_budget_exceeded` and
 * `keyguard_credits_exhausted` for keyguard's own money refusals (never OpenAI's `insufficient_quota`,
 * which stays OpenAI's billing), `server_error` / `invalid_request_error` by status. Never the
 * operator hint or the key.
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
