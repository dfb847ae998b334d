/**
 * Resolve after `ms` milliseconds, or reject with the signal's reason when it aborts first.
 *
 * @example
 * ```ts
 * await delay(scripted.latencyMs, request.signal)
 * ```
 */
export function delay(ms: number, signal: AbortSignal | null): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms)
    signal?.addEventListener('abort', () => {
      clearTimeout(timer)
      reject(signal.reason)
    })
  })
}
