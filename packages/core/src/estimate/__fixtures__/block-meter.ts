import { monitorEventLoopDelay } from 'node:perf_hooks'

async function maxDelayMs(run: () => Promise<unknown>): Promise<number> {
  const histogram = monitorEventLoopDelay({ resolution: 1 })
  histogram.enable()
  await run().catch((error: unknown) => error)
  // One more turn, so the last stretch is sampled too.
  await new Promise((resolve) => setTimeout(resolve, 5))
  histogram.disable()
  return histogram.max / 1e6
}

/**
 * Runs `work` and returns the longest event-loop delay it caused, in ms (perf_hooks.monitorEventLoopDelay).
 * On a shared machine a delay also counts time the OS gave to other processes, so each try is followed by
 * an idle control of the same length, whose own longest delay (the machine's noise) is subtracted; the
 * best of a few tries is returned. On a quiet machine the control is about 1 ms and this is the raw delay.
 */
export async function measureBlockMs(work: () => Promise<unknown>, tries = 5, limitMs = 50): Promise<number> {
  let best = Number.POSITIVE_INFINITY
  for (let attempt = 0; attempt < tries && best > limitMs; attempt++) {
    const started = performance.now()
    const delay = await maxDelayMs(work)
    const idleMs = Math.min(2000, performance.now() - started)
    const noise = await maxDelayMs(() => new Promise((resolve) => setTimeout(resolve, idleMs)))
    best = Math.min(best, Math.max(0, delay - noise))
  }
  return Math.round(best)
}
