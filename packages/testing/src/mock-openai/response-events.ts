import type { ResponseObject } from './handle-responses'

/**
 * SSE events of a Responses API stream, ending with `response.completed` (or `response.incomplete`)
 * carrying usage.
 *
 * @example
 * ```ts
 * return respond.sse(responseEvents(response, ['Hi', ' there']))
 * ```
 */
export function responseEvents(response: ResponseObject, pieces: string[]): string[] {
  let sequence = 0
  const event = (type: string, fields: Record<string, unknown>) =>
    `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: sequence++, ...fields })}\n\n`
  const item = response.output[0]!
  const inProgress = { ...response, status: 'in_progress', output: [], usage: null }
  const emptyItem = { ...item, status: 'in_progress', content: [] }
  const part = { type: 'output_text', text: '', annotations: [], logprobs: [] }
  const text = pieces.join('')
  const final = response.status === 'completed' ? 'response.completed' : 'response.incomplete'
  return [
    event('response.created', { response: inProgress }),
    event('response.in_progress', { response: inProgress }),
    event('response.output_item.added', { output_index: 0, item: emptyItem }),
    event('response.content_part.added', { item_id: item.id, output_index: 0, content_index: 0, part }),
    ...pieces.map((delta) =>
      event('response.output_text.delta', {
        item_id: item.id,
        output_index: 0,
        content_index: 0,
        delta,
        logprobs: [],
      }),
    ),
    event('response.output_text.done', {
      item_id: item.id,
      output_index: 0,
      content_index: 0,
      text,
      logprobs: [],
    }),
    event('response.content_part.done', {
      item_id: item.id,
      output_index: 0,
      content_index: 0,
      part: { ...part, text },
    }),
    event('response.output_item.done', { output_index: 0, item }),
    event(final, { response }),
  ]
}
