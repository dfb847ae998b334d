import { describe, expect, it } from 'vitest'
import { imageTokenBound } from './image-tokens'

describe('imageTokenBound', () => {
  it('follows the published tile and patch examples', () => {
    expect(imageTokenBound('gpt-4o', 'high', { width: 1024, height: 1024 })).toBe(765)
    expect(imageTokenBound('gpt-4o', 'high', { width: 2048, height: 4096 })).toBe(1105)
    expect(imageTokenBound('gpt-4o', 'low', { width: 4096, height: 4096 })).toBe(85)
    expect(imageTokenBound('gpt-4.1-mini', 'high', { width: 1024, height: 1024 })).toBe(
      Math.ceil(1024 * 1.62),
    )
    expect(imageTokenBound('gpt-4.1-mini', 'high', { width: 1800, height: 2400 })).toBe(
      Math.ceil(1452 * 1.62),
    )
  })

  it('never exceeds the worst-case bound used when the size is unknown', () => {
    for (const size of [
      { width: 100, height: 5000 },
      { width: 2048, height: 768 },
      { width: 9999, height: 9999 },
    ]) {
      for (const model of ['gpt-4o', 'gpt-4o-mini', 'gpt-5', 'o3', 'gpt-4.1-nano', 'o4-mini']) {
        expect(imageTokenBound(model, 'high', size)).toBeLessThanOrEqual(imageTokenBound(model, 'high'))
      }
    }
  })
})
