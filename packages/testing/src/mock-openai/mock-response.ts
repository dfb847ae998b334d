import type { OpenAIErrorObject } from './mock-errors'

/** Token counts the mock reports. Any field given replaces the computed count. */
export interface MockUsage {
  promptTokens?: number
  completionTokens?: number
  cachedTokens?: number
  reasoningTokens?: number
}

/** What a scripted body may depend on. */
export interface MockContext {
  /** The bearer token presented, if any. */
  key: string | undefined
  path: string
  body: unknown
}

/**
 * One scripted answer: an error body, a changed normal answer, or a broken stream.
 *
 * @example
 * ```ts
 * mock.enqueue({ path: '/v1/chat/completions', reply: 'Hi', usage: { promptTokens: 12 } })
 * ```
 */
export interface MockResponse {
  /** Only use this answer for a request to this path (`/v1/chat/completions`). @default any path */
  path?: string
  /** HTTP status. @default 200 */
  status?: number
  /** A JSON body that replaces the normal answer (an error body, usually), or a function of the request context. */
  body?: unknown
  /** Extra headers, added to the usual `x-request-id` and `x-ratelimit-*`. */
  headers?: Record<string, string>
  /** Wait this long before answering. */
  latencyMs?: number
  /** The assistant's text for this answer. */
  reply?: string
  /** Usage for this answer. */
  usage?: MockUsage
  /** Leave usage out of the answer (JSON `usage` field and the final stream chunk). */
  omitUsage?: boolean
  /** Break a streamed answer. */
  stream?: {
    /** Send an error event after this many content chunks, then end the stream. */
    errorAfterChunks?: number
    error?: OpenAIErrorObject
    /** Drop the connection after this many content chunks. */
    disconnectAfterChunks?: number
  }
}
