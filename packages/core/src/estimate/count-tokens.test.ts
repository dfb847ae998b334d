import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isKeyguardError } from '../errors/keyguard-error'
import { byteUpperBoundCounter, countTokens, loadTokenizer, tokenUpperBound } from './count-tokens'

describe('countTokens', () => {
  it('counts with the model family encoding', async () => {
    expect(await countTokens('hello world', 'gpt-4o')).toBe(2)
    expect(await countTokens('hello world', 'gpt-4')).toBe(2)
    expect(await countTokens('', 'gpt-5')).toBe(0)
  })

  it('counts special-token strings as plain text instead of throwing', async () => {
    expect(await countTokens('<|endoftext|>', 'gpt-4o')).toBeGreaterThan(1)
  })

  it('finishes quickly on a pathological run without whitespace', async () => {
    const count = await loadTokenizer('o200k_base')
    const started = performance.now()
    const tokens = count('a'.repeat(200_000))
    expect(performance.now() - started).toBeLessThan(2000)
    expect(tokens).toBe(25_000)
  })

  it('throws estimate.unknown_model for a model it cannot price', async () => {
    const error = await countTokens('x', 'no-such-model').catch((e: unknown) => e)
    expect(isKeyguardError(error) && error.code).toBe('estimate.unknown_model')
  })

  it('uses a counter you bring', async () => {
    expect(await countTokens('héllo', 'gpt-4o', { counter: byteUpperBoundCounter })).toBe(6)
  })
})

describe('tokenUpperBound', () => {
  it('equals the UTF-8 byte length', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme' }),
        (text) => tokenUpperBound(text) === new TextEncoder().encode(text).length,
      ),
    )
  })

  it('is never below the exact count', async () => {
    const count = await loadTokenizer('o200k_base')
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 200 }),
        (text) => tokenUpperBound(text) >= count(text),
      ),
    )
  })
})
