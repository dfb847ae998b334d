import type { MockResponse } from './mock-response'

/** Scripted answers waiting for requests; see {@link createResponseQueue}. */
export interface ResponseQueue {
  /** Add one-shot answers at the end. */
  push(...responses: MockResponse[]): void
  /**
   * The answer for one request: the oldest queued answer for its path (removed), else the key's
   * standing answer, else `{}` (the normal answer).
   */
  take(path: string, key: string | undefined): MockResponse
  /** Drop every queued answer; standing answers stay. */
  clear(): void
}

/**
 * Create the queue of scripted answers, with standing answers per key behind it.
 *
 * @example
 * ```ts
 * const queue = createResponseQueue({ 'sk-no-quota': mockErrors.insufficientQuota() })
 * queue.push(mockErrors.serverError())
 * const scripted = queue.take('/v1/chat/completions', 'sk-proj-test')
 * ```
 */
export function createResponseQueue(keyResponses: Readonly<Record<string, MockResponse>>): ResponseQueue {
  let queue: MockResponse[] = []
  return {
    push(...responses) {
      queue.push(...responses)
    },
    take(path, key) {
      const index = queue.findIndex((entry) => entry.path === undefined || entry.path === path)
      return (
        (index === -1 ? undefined : queue.splice(index, 1)[0]) ??
        (key !== undefined ? keyResponses[key] : undefined) ??
        {}
      )
    },
    clear() {
      queue = []
    },
  }
}
