/**
 * Wrap an upstream `fetch` so a test can see whether the guard cancelled a response body upstream.
 *
 * @example
 * ```ts
 * const upstream = cancelCountingFetch(mock.fetch)
 * createKeyguard({ key, upstream: { fetch: upstream.fetch } })
 * expect(upstream.cancelled()).toBe(1)
 * ```
 */
export function cancelCountingFetch(inner: typeof fetch): { fetch: typeof fetch; cancelled(): number } {
  let cancelled = 0
  const wrapped: typeof fetch = async (input, init) => {
    const response = await inner(input, init)
    if (!response.body) return response
    const reader = response.body.getReader()
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const { done, value } = await reader.read()
        if (done) controller.close()
        else controller.enqueue(value)
      },
      cancel(reason) {
        cancelled++
        return reader.cancel(reason)
      },
    })
    return new Response(body, { status: response.status, headers: response.headers })
  }
  return { fetch: wrapped, cancelled: () => cancelled }
}
