import { describe, expect, it } from 'vitest'
import { describeWait } from './describe-wait'

describe('describeWait', () => {
  it('reads a wait in the largest whole unit a person would use', () => {
    expect(describeWait(2_370_779_000)).toBe('in 27 days')
    expect(describeWait(159_077_000)).toBe('in 2 days')
    expect(describeWait(86_400_000)).toBe('in 1 day')
    expect(describeWait(5 * 3_600_000 + 1)).toBe('in 5 hours')
    expect(describeWait(90_000)).toBe('in 2 minutes')
    expect(describeWait(1_500)).toBe('in 2 seconds')
    expect(describeWait(0)).toBe('now')
  })
})
