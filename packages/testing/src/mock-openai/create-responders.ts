import type { MockContext, MockResponse } from './mock-response'
import { sseStream } from './sse-stream'

/** The ways one request can be answered, all with the same headers; see {@link createResponders}. */
export interface Responders {
  /** A JSON answer. */
  json(status: number, payload: unknown): Response
  /** A scripted answer's status and body; `defaultStatus` when it names none. @default 400 */
  answer(preset: MockResponse, defaultStatus?: number): Response
  /** An SSE stream of `events`, broken as the scripted answer says. */
  sse(events: string[]): Response
}

/**
 * Bind the answers to one request: its headers, its scripted answer (status and stream faults) and the
 * context a scripted body is a function of.
 *
 * @example
 * ```ts
 * const respond = createResponders(headers, scripted, context)
 * return respond.json(200, { object: 'list', data: [] })
 * ```
 */
export function createResponders(
  headers: Record<string, string>,
  scripted: MockResponse,
  context: MockContext,
): Responders {
  const json = (status: number, payload: unknown) =>
    new Response(JSON.stringify(payload), {
      status,
      headers: { ...headers, 'content-type': 'application/json' },
    })
  return {
    json,
    answer: (preset, defaultStatus = 400) =>
      json(
        preset.status ?? defaultStatus,
        typeof preset.body === 'function' ? preset.body(context) : preset.body,
      ),
    sse: (events) =>
      new Response(sseStream(events, scripted.stream), {
        status: scripted.status ?? 200,
        headers: {
          ...headers,
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache',
        },
      }),
  }
}
