import { fakeClock } from '@keyguard/testing'
import { describeStoreConformance } from '@keyguard/testing/conformance'
import { memoryStore } from './memory-store'

describeStoreConformance('memoryStore', () => {
  const clock = fakeClock(Date.UTC(2026, 10, 28))
  return {
    store: memoryStore({ now: clock.now }),
    now: clock.now,
    advance: async (ms) => {
      clock.advance(ms)
    },
  }
})
