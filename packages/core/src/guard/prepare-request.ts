import type { RequestEstimate } from '../estimate/estimate-request'
import { parseJson } from '../estimate/parse-json'
import { chatEndpoint } from './guard-shared'
import type { ResolvedOptions } from './keyguard-options'
import { namesOutputBound, outputBoundField } from './output-bound'
import type { IncomingRequest } from './read-request'

/**
 * A POST body as a JSON object; `undefined` for anything else (an upload, a form), which only
 * request limits then count. Parsed with {@link parseJson}, so a large body never holds the event loop.
 *
 * @example
 * ```ts
 * const json = await jsonBodyOf(await readRequest(input, init, baseUrl))
 * ```
 */
export async function jsonBodyOf(incoming: IncomingRequest): Promise<Record<string, unknown> | undefined> {
  let json: Record<string, unknown> | undefined
  if (incoming.text !== undefined && incoming.method === 'POST') {
    try {
      const parsed: unknown = await parseJson(incoming.text)
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed))
        json = parsed as Record<string, unknown>
    } catch {
      // Not JSON (an upload, a form): request limits only.
    }
  }
  return json
}

/**
 * The body sent upstream: `stream_options.include_usage` added to a chat stream (else it reports no
 * usage), and with `forwardOutputBound` the default output bound named, so OpenAI stops at the hold.
 * The caller's text is sent as it is when nothing changes.
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
): { json: Record<string, unknown> | undefined; bodyText: string | undefined } {
  let json = parsed
  let bodyText = text
  if (json && estimate?.stream && endpoint === chatEndpoint) {
    // Without include_usage a chat stream reports no usage, and the call could only be settled from the estimate.
    const streamOptions =
      json.stream_options && typeof json.stream_options === 'object' ? json.stream_options : {}
    // Already asked for (openai-node and the AI SDK do): the caller's body is sent as it is.
    if ((streamOptions as { include_usage?: unknown }).include_usage !== true) {
      json = { ...json, stream_options: { ...streamOptions, include_usage: true } }
      bodyText = JSON.stringify(json)
    }
  }
  if (options.forwardOutputBound && json && estimate) {
    // The hold covers `defaultMaxOutputTokens` per choice; said upstream, OpenAI cannot write past it.
    const field = outputBoundField(endpoint, json)
    const choices = endpoint === chatEndpoint && typeof json.n === 'number' && json.n > 1 ? json.n : 1
    const perChoice = estimate.maxOutputTokens / choices
    if (field && !namesOutputBound(endpoint, json) && perChoice === options.defaultMaxOutputTokens) {
      json = { ...json, [field]: perChoice }
      bodyText = JSON.stringify(json)
    }
  }
  return { json, bodyText }
}
