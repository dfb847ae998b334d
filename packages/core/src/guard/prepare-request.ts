import { KeyguardError } from '../errors/keyguard-error'
import type { RequestEstimate } from '../estimate/estimate-request'
import type { ResolvedOptions } from './keyguard-options'
import { namesOutputBound, outputBoundField } from './output-bound'
import { chatEndpoint } from './read-request'

/**
 * The body sent upstream: `stream_options.include_usage` added to a chat stream (else it reports no
 * usage; `usageForced` then says the caller's stream must not show the extra usage chunk), and with
 * `output.default.enforce: 'forward'` the default output bound named, so OpenAI stops at the hold. The caller's text
 * is sent as it is when nothing changes.
 *
 * @example
 * ```ts
 * const { json, bodyText } = rewriteBody(options, endpoint, parsed, estimate, incoming.text)
 * ```
 */
export function rewriteBody(
  options: ResolvedOptions,
  endpoint: string,
  parsed: Record<string, unknown> | undefined,
  estimate: RequestEstimate | null,
  text: string | undefined,
): { json: Record<string, unknown> | undefined; bodyText: string | undefined; usageForced: boolean } {
  let json = parsed
  let bodyText = text
  let usageForced = false
  if (json && estimate?.stream && endpoint === chatEndpoint) {
    // Without include_usage a chat stream reports no usage, and the call could only be settled from the estimate.
    const streamOptions =
      json.stream_options && typeof json.stream_options === 'object' ? json.stream_options : {}
    // Already asked for (openai-node and the AI SDK do): the caller's body is sent as it is.
    if ((streamOptions as { include_usage?: unknown }).include_usage !== true) {
      json = { ...json, stream_options: { ...streamOptions, include_usage: true } }
      bodyText = JSON.stringify(json)
      usageForced = true
    }
  }
  if (options.forwardOutputBound && json && estimate) {
    // The hold covers `output.default.maxTokens` per choice; said upstream, OpenAI cannot write past it.
    const field = outputBoundField(endpoint, json)
    const choices = endpoint === chatEndpoint && typeof json.n === 'number' && json.n > 1 ? json.n : 1
    const perChoice = estimate.maxOutputTokens / choices
    if (field && !namesOutputBound(endpoint, json) && perChoice === options.defaultMaxOutputTokens) {
      json = { ...json, [field]: perChoice }
      bodyText = JSON.stringify(json)
    }
  }
  return { json, bodyText, usageForced }
}

/**
 * The refusal of a background response (`background: true` on `/v1/responses`) unless
 * `backgroundResponses: 'charge-hold'` allows it: its answer carries no usage, so settling it then
 * would charge the prompt only.
 *
 * @example
 * ```ts
 * const refusal = backgroundRefusal(options, endpoint, json)
 * if (refusal) return refuse(refusal)
 * ```
 */
export function backgroundRefusal(
  options: ResolvedOptions,
  endpoint: string,
  json: Record<string, unknown> | undefined,
): KeyguardError | undefined {
  if (endpoint !== '/v1/responses' || json?.background !== true || options.backgroundResponses !== 'refuse')
    return undefined
  return new KeyguardError({
    code: 'request.invalid',
    message:
      'a background response (background: true) was refused: its answer has no usage, so keyguard could only charge the prompt',
    userMessage:
      "Background responses are not enabled here: send the request without background: true, or ask the operator to set backgroundResponses: 'charge-hold'.",
    operatorHint:
      "set createKeyguard({ backgroundResponses: 'charge-hold' }) to allow them, each charged its whole hold (prompt plus output bound) at once",
  })
}
