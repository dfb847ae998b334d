import { monitorEventLoopDelay } from 'node:perf_hooks'

/**
 * Runs `work` and returns the longest event-loop delay it caused, in ms (perf_hooks.monitorEventLoopDelay).
 * On a shared machine a delay also counts time the OS gave to other processes, so a caller that asserts
 * on it takes the best of a few tries: a block the code causes shows in every try, a preemption does not.
 */
export async function measureBlockMs(work: () => Promise<unknown>, tries = 5, limitMs = 50): Promise<number> {
  let best = Number.POSITIVE_INFINITY
  for (let attempt = 0; attempt < tries && best > limitMs; attempt++) {
    const histogram = monitorEventLoopDelay({ resolution: 1 })
    histogram.enable()
    await work().catch((error: unknown) => error)
    // One more turn, so the last stretch of work is sampled too.
    await new Promise((resolve) => setTimeout(resolve, 5))
    histogram.disable()
    best = Math.min(best, histogram.max / 1e6)
  }
  return Math.round(best)
}
