import type { TokenCounts } from './compute-usage'
import type { Responders } from './create-responders'
import type { EndpointInput } from './endpoint-input'
import { responseEvents } from './response-events'

/** A Responses API `response` object as the mock builds it. */
export type ResponseObject = ReturnType<typeof responseObject>

/**
 * Answer `POST /v1/responses`: a response object (`incomplete` when the output limit cut it), or its
 * events when `stream` is set.
 *
 * @example
 * ```ts
 * if (path === '/v1/responses') return handleResponses(input, respond)
 * ```
 */
export function handleResponses(input: EndpointInput, respond: Responders): Response {
  const { serial, created, model, fields, pieces, truncated, counts, omitUsage } = input
  const id = `resp_mock${serial}`
  const response = responseObject(id, created, model, pieces.join(''), counts, omitUsage, truncated)
  if (fields.stream !== true) return respond.json(200, response)
  return respond.sse(responseEvents(response, pieces))
}

function responseObject(
  id: string,
  created: number,
  model: string,
  text: string,
  counts: TokenCounts,
  omitUsage: boolean,
  truncated: boolean,
) {
  return {
    id,
    object: 'response',
    created_at: created,
    status: truncated ? 'incomplete' : 'completed',
    error: null,
    incomplete_details: truncated ? { reason: 'max_output_tokens' } : null,
    instructions: null,
    model,
    output: [
      {
        type: 'message',
        id: `msg_${id.slice(5)}`,
        status: truncated ? 'incomplete' : 'completed',
        role: 'assistant',
        content: [{ type: 'output_text', text, annotations: [], logprobs: [] }],
      },
    ],
    parallel_tool_calls: true,
    tool_choice: 'auto',
    tools: [],
    text: { format: { type: 'text' } },
    usage: omitUsage
      ? null
      : {
          input_tokens: counts.prompt,
          input_tokens_details: { cached_tokens: counts.cached },
          output_tokens: counts.completion,
          output_tokens_details: { reasoning_tokens: counts.reasoning },
          total_tokens: counts.prompt + counts.completion,
        },
  }
}
