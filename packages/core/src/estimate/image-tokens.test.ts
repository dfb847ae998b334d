import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { imageTokens } from './image-tokens'

const models = [
  'gpt-4o',
  'gpt-4o-mini',
  'gpt-4.1',
  'gpt-5',
  'gpt-5-mini',
  'gpt-5.4',
  'o1',
  'o3',
  'gpt-4.1-nano',
  'o4-mini',
]

describe('imageTokens', () => {
  it('is exact by the formula only for a known size, a documented family and an explicit detail', () => {
    expect(imageTokens('gpt-4o', 'high', { width: 1024, height: 1024 })).toEqual({ tokens: 765, exact: true })
    // A URL image: the family's largest shape, marked inexact.
    expect(imageTokens('gpt-4o', 'high')).toEqual({ tokens: 85 + 170 * 8, exact: false })
    // `low` does not depend on the size.
    expect(imageTokens('gpt-4o', 'low')).toEqual({ tokens: 85, exact: true })
    // `auto` lets OpenAI choose: held at `high`.
    expect(imageTokens('gpt-4o', 'auto', { width: 1024, height: 1024 })).toEqual({
      tokens: 765,
      exact: false,
    })
    // Patch families ignore `detail`.
    expect(imageTokens('o4-mini', 'low', { width: 128, height: 64 })).toEqual({ tokens: 14, exact: true })
    expect(imageTokens('gpt-4.1-nano', undefined)).toEqual({ tokens: Math.ceil(1536 * 2.46), exact: false })
  })

  it('holds gpt-5.2 and later at their 2500-patch budget, 10 000 at detail original', () => {
    expect(imageTokens('gpt-5.4', 'high')).toEqual({ tokens: Math.ceil(2500 * 1.62), exact: false })
    expect(imageTokens('gpt-5.4-nano', 'original')).toEqual({
      tokens: Math.ceil(10_000 * 2.46),
      exact: false,
    })
    expect(imageTokens('gpt-5.2', 'high', { width: 1600, height: 1600 }).tokens).toBe(Math.ceil(2500 * 1.62))
  })

  it('holds an unknown family at the dearest formula', () => {
    expect(imageTokens('some-future-model', 'high')).toEqual({ tokens: 2833 + 5667 * 8, exact: false })
  })

  it('never gives more for a known size than for an unknown one', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20_000 }),
        fc.integer({ min: 1, max: 20_000 }),
        fc.constantFrom(...models),
        fc.constantFrom('low', 'high', 'auto', undefined),
        (width, height, model, detail) =>
          imageTokens(model, detail, { width, height }).tokens <= imageTokens(model, detail).tokens,
      ),
    )
  })
})
