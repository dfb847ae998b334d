import { afterEach, describe, expect, it, vi } from 'vitest'
import { yieldToEventLoop } from './yield-to-event-loop'

describe('yieldToEventLoop', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('lets a task queued before it run first', async () => {
    const order: string[] = []
    setTimeout(() => order.push('timer'), 0)
    // Node runs a zero-delay timer after 1 ms: wait that out, so the timer is due before the first
    // yield. A warm process (files sharing a worker) yields five times in well under 1 ms.
    const due = performance.now() + 2
    while (performance.now() < due);
    // A few turns: a due timer may need its own loop phase.
    for (let turn = 0; turn < 5 && order.length === 0; turn++) await yieldToEventLoop()
    order.push('after')
    expect(order).toEqual(['timer', 'after'])
  })

  it('still returns while the caller fakes every timer', async () => {
    vi.useFakeTimers()
    await expect(yieldToEventLoop()).resolves.toBeUndefined()
  })
})
