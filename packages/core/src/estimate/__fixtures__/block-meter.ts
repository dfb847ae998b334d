const cpuMs = () => {
  const { user, system } = process.cpuUsage()
  return (user + system) / 1000
}

/** The most CPU time this process spent between two turns of the event loop while `run` ran, in ms. */
async function maxCpuBetweenTurnsMs(run: () => Promise<unknown>): Promise<number> {
  let last = cpuMs()
  let max = 0
  let timer: ReturnType<typeof setTimeout> | undefined
  const turn = () => {
    const now = cpuMs()
    max = Math.max(max, now - last)
    last = now
    timer = setTimeout(turn, 1)
  }
  timer = setTimeout(turn, 1)
  await run().catch((error: unknown) => error)
  // One more turn, so the last stretch is sampled too.
  await new Promise((resolve) => setTimeout(resolve, 5))
  clearTimeout(timer)
  return max
}

/**
 * Runs `work` and returns the longest stretch it kept the event loop from turning, in ms of this
 * process's CPU time between two timer turns. CPU time, unlike wall time, does not grow while the OS
 * runs other processes, so a loaded 2-core machine measures what a quiet one does (the wall-clock
 * event-loop delay this meter replaced read 105 ms at load 18 for a body under 50 ms when quiet).
 * System time counts too, so it errs high, never low. The best of a few tries is returned, so one
 * garbage collection on another thread does not decide it.
 */
export async function measureBlockMs(work: () => Promise<unknown>, tries = 3, limitMs = 50): Promise<number> {
  let best = Number.POSITIVE_INFINITY
  for (let attempt = 0; attempt < tries && best > limitMs; attempt++) {
    best = Math.min(best, await maxCpuBetweenTurnsMs(work))
  }
  return Math.round(best)
}
