import type { MockResponse } from './mock-response'

/**
 * Stream SSE events; a scripted fault counts content chunks after the first event (the role chunk or
 * `response.created`…), so `afterChunks: 0` breaks before any text. An error fault sends the error
 * event in the stream's format and ends the stream; a disconnect fault errors the stream.
 *
 * @example
 * ```ts
 * new Response(sseStream(['data: {}\n\n', 'data: [DONE]\n\n'], { disconnectAfterChunks: 0 }))
 * ```
 */
export function sseStream(events: string[], fault: MockResponse['stream']): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder()
  const isResponses = events[0]?.startsWith('event:') === true
  const lead = isResponses ? 4 : 1
  let index = 0
  return new ReadableStream({
    pull(controller) {
      const sentContent = index - lead
      if (fault?.disconnectAfterChunks !== undefined && sentContent >= fault.disconnectAfterChunks) {
        controller.error(new TypeError('mock OpenAI: connection dropped mid-stream'))
        return
      }
      if (fault?.errorAfterChunks !== undefined && sentContent >= fault.errorAfterChunks) {
        const error = fault.error ?? {
          message: 'The server had an error while processing your request.',
          type: 'server_error',
          param: null,
          code: 'server_error',
        }
        const payload = isResponses
          ? `event: error\ndata: ${JSON.stringify({ type: 'error', code: error.code, message: error.message, param: error.param, sequence_number: index })}\n\n`
          : `data: ${JSON.stringify({ error })}\n\n`
        controller.enqueue(encoder.encode(payload))
        controller.close()
        return
      }
      const next = events[index++]
      if (next === undefined) controller.close()
      else controller.enqueue(encoder.encode(next))
    },
  })
}
