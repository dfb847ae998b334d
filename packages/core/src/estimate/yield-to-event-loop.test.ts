import { afterEach, describe, expect, it, vi } from 'vitest'
import { yieldToEventLoop } from './yield-to-event-loop'

describe('yieldToEventLoop', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('lets a task queued before it run first', async () => {
    const order: string[] = []
    setTimeout(() => order.push('timer'), 0)
    // A few turns: a zero-delay timer may need its own loop phase.
    for (let turn = 0; turn < 5 && order.length === 0; turn++) await yieldToEventLoop()
    order.push('after')
    expect(order).toEqual(['timer', 'after'])
  })

  it('still returns while the caller fakes every timer', async () => {
    vi.useFakeTimers()
    await expect(yieldToEventLoop()).resolves.toBeUndefined()
  })
})
