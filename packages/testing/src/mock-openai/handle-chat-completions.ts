import { chatChunks } from './chat-chunks'
import { chatUsage, type TokenCounts } from './compute-usage'
import type { Responders } from './create-responders'
import type { EndpointInput } from './endpoint-input'
import { isRecord } from './is-record'

/**
 * Answer `POST /v1/chat/completions`: a chat completion, or its chunks when `stream` is set (with the
 * usage chunk when `stream_options.include_usage` asks for it).
 *
 * @example
 * ```ts
 * if (path === '/v1/chat/completions') return handleChatCompletions(input, respond)
 * ```
 */
export function handleChatCompletions(input: EndpointInput, respond: Responders): Response {
  const { serial, created, model, fields, pieces, truncated, counts, omitUsage } = input
  const id = `chatcmpl-mock${serial}`
  const finish = truncated ? 'length' : 'stop'
  if (fields.stream !== true) {
    return respond.json(200, chatCompletion(id, created, model, pieces.join(''), finish, counts, omitUsage))
  }
  const includeUsage =
    !omitUsage && isRecord(fields.stream_options) && fields.stream_options.include_usage === true
  return respond.sse(chatChunks(id, created, model, pieces, finish, counts, includeUsage))
}

function chatCompletion(
  id: string,
  created: number,
  model: string,
  content: string,
  finish: string,
  counts: TokenCounts,
  omitUsage: boolean,
) {
  return {
    id,
    object: 'chat.completion',
    created,
    model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content, refusal: null, annotations: [] },
        logprobs: null,
        finish_reason: finish,
      },
    ],
    ...(omitUsage ? {} : { usage: chatUsage(counts) }),
    service_tier: 'default',
    system_fingerprint: 'fp_mock',
  }
}
