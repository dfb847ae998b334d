import { describe, expect, it } from 'vitest'
import { idleTimer, type Timers } from './idle-timer'

/** Timers whose handles look like Node's (`unref`, `refresh`), recording what was asked of them. */
function nodeLikeTimers() {
  const log: string[] = []
  const callbacks: (() => void)[] = []
  const timers: Timers = {
    setTimeout: (callback, ms) => {
      log.push(`set ${ms}`)
      callbacks.push(callback)
      return { unref: () => log.push('unref'), refresh: () => log.push('refresh') }
    },
    clearTimeout: () => log.push('clear'),
  }
  return { timers, log, fire: () => callbacks.at(-1)?.() }
}

describe('idleTimer', () => {
  it('unrefs its handle, restarts it in place, and clears it when stopped', () => {
    const { timers, log } = nodeLikeTimers()
    const idle = idleTimer(60_000, timers, () => {})
    idle.start()
    idle.start()
    idle.stop()
    expect(log).toEqual(['set 60000', 'unref', 'refresh', 'clear'])
  })

  it('never asks the runtime for a delay over 2^31−1 ms', () => {
    const { timers, log } = nodeLikeTimers()
    idleTimer(2 ** 40, timers, () => {}).start()
    expect(log[0]).toBe(`set ${2 ** 31 - 1}`)
  })

  it('arms a new handle after it fired, and does nothing without a delay', () => {
    const { timers, log, fire } = nodeLikeTimers()
    let fired = 0
    const idle = idleTimer(1000, timers, () => fired++)
    idle.start()
    fire()
    idle.start()
    expect(fired).toBe(1)
    expect(log).toEqual(['set 1000', 'unref', 'set 1000', 'unref'])
    const never = nodeLikeTimers()
    idleTimer(undefined, never.timers, () => {}).start()
    expect(never.log).toEqual([])
  })
})
