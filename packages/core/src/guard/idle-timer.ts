/** The timer functions an {@link idleTimer} uses; tests pass fakes. */
export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

/** The runtime's own timers, looked up when called (so fake timers installed later are used). */
export const runtimeTimers: Timers = {
  setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>),
}

/** The longest delay a runtime timer takes (2^31−1 ms); a longer one fires at once. */
const maxDelayMs = 2 ** 31 - 1

/**
 * A restartable one-shot timer: `start()` (re)arms it to call `onIdle` after `ms` (restarting the
 * runtime's handle in place where it can), `stop()` disarms it. The timer never keeps a process alive where the runtime can say so (Node's and Bun's `unref`,
 * found on the handle: no Node API is imported). `ms` undefined: a timer that never fires.
 *
 * @example
 * ```ts
 * const idle = idleTimer(60_000, runtimeTimers, () => abandon())
 * idle.start() // on hand-over; stop() when the reader asks, start() again once it is answered
 * ```
 */
export function idleTimer(
  ms: number | undefined,
  timers: Timers,
  onIdle: () => void,
): { start(): void; stop(): void } {
  let handle: unknown
  const stop = () => {
    if (handle === undefined) return
    timers.clearTimeout(handle)
    handle = undefined
  }
  return {
    start() {
      if (ms === undefined) return
      if (handle !== undefined) {
        // Node's and Bun's handles restart in place: far cheaper per stream chunk than clear and set.
        const refresh = (handle as { refresh?: unknown }).refresh
        if (typeof refresh === 'function') {
          refresh.call(handle)
          return
        }
        stop()
      }
      handle = timers.setTimeout(
        () => {
          handle = undefined
          onIdle()
        },
        Math.min(Math.max(0, ms), maxDelayMs),
      )
      ;(handle as { unref?: () => void } | null)?.unref?.()
    },
    stop,
  }
}
