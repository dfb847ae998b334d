import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isKeyguardError } from '../errors/keyguard-error'
import {
  byteUpperBoundCounter,
  cachedCounter,
  countSlices,
  countTokens,
  loadTokenizer,
  type TokenCounter,
  tokenUpperBound,
} from './count-tokens'

describe('countTokens', () => {
  it('counts with the model family encoding', async () => {
    expect(await countTokens('hello world', 'gpt-4o')).toBe(2)
    expect(await countTokens('hello world', 'gpt-4')).toBe(2)
    expect(await countTokens('', 'gpt-5')).toBe(0)
  })

  it('counts special-token strings as plain text instead of throwing', async () => {
    expect(await countTokens('<|endoftext|>', 'gpt-4o')).toBeGreaterThan(1)
  })

  it('bounds a giant run without whitespace by its bytes instead of encoding it', async () => {
    const count = await loadTokenizer('o200k_base')
    expect(count('a'.repeat(200_000))).toBe(200_000)
    expect(count('word '.repeat(2000))).toBe(2001) // 2000 words and the trailing space
  })

  it('throws estimate.unknown_model for a model it cannot price', async () => {
    const error = await countTokens('x', 'no-such-model').catch((e: unknown) => e)
    expect(isKeyguardError(error) && error.code).toBe('estimate.unknown_model')
  })

  it('uses a counter you bring', async () => {
    expect(await countTokens('héllo', 'gpt-4o', { counter: byteUpperBoundCounter })).toBe(6)
  })
})

// Text whose pre-token boundaries matter: spaces, line breaks, digits, punctuation, contractions, CJK, emoji.
const tricky = fc
  .array(
    fc.constantFrom(
      ' ',
      '  ',
      '\n',
      '\n\n',
      ' \n',
      '\t',
      'a',
      'Hello',
      "'s",
      "don't",
      '123',
      '4',
      '!',
      '//',
      '的',
      '是',
      '😀',
      '👍🏽',
      'é',
      '\u00a0',
      '.',
      '\r\n',
      'AB',
      'ǅ',
    ),
    { maxLength: 120 },
  )
  .map((parts) => parts.join(''))

function runSlices(text: string, count: (text: string) => number, sliceChars: number, maxRun: number) {
  const slices = countSlices(text, count, { sliceChars, maxRun })
  let step = slices.next()
  while (!step.done) step = slices.next()
  return step.value
}

describe('countSlices', () => {
  for (const encoding of ['o200k_base', 'cl100k_base'] as const) {
    it(`counts exactly when it cuts only where a pre-token ends (${encoding})`, async () => {
      const count = await loadTokenizer(encoding)
      fc.assert(
        fc.property(tricky, fc.integer({ min: 1, max: 40 }), (text, sliceChars) => {
          const sliced = runSlices(text, count, sliceChars, Number.POSITIVE_INFINITY)
          return sliced.exact && sliced.tokens === count(text)
        }),
        { numRuns: 500 },
      )
    })

    it(`never counts below the exact count when it bounds long runs (${encoding})`, async () => {
      const count = await loadTokenizer(encoding)
      fc.assert(
        fc.property(
          fc.oneof(tricky, fc.string({ unit: 'grapheme', maxLength: 200 })),
          fc.integer({ min: 1, max: 40 }),
          fc.integer({ min: 1, max: 20 }),
          (text, sliceChars, maxRun) => runSlices(text, count, sliceChars, maxRun).tokens >= count(text),
        ),
        { numRuns: 500 },
      )
    })
  }
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

describe('cachedCounter', () => {
  const spying = () => {
    const seen: string[] = []
    const counter: TokenCounter = {
      name: 'spy',
      exact: true,
      forEncoding: () => (text: string) => {
        seen.push(text)
        return text.length
      },
    }
    return { counter, seen }
  }
  const text = (n: number) => `message ${n} `.padEnd(100, 'x')

  it('counts a repeated text once and returns the same count', async () => {
    const { counter, seen } = spying()
    const count = await cachedCounter(counter).forEncoding('o200k_base')
    expect(count(text(1))).toBe(100)
    expect(count(text(1))).toBe(100)
    expect(seen).toEqual([text(1)])
  })

  it('tells apart texts of the same length and the same sampled characters', async () => {
    const { counter } = spying()
    const count = await cachedCounter(
      { ...counter, forEncoding: () => (value: string) => (value.includes('!') ? 1 : 2) },
      { minChars: 0 },
    ).forEncoding('o200k_base')
    const a = 'a'.repeat(1000)
    const b = `${'a'.repeat(500)}!${'a'.repeat(499)}`
    expect([count(a), count(b), count(a), count(b)]).toEqual([2, 1, 2, 1])
  })

  it('forgets the least recently used text beyond maxEntries', async () => {
    const { counter, seen } = spying()
    const count = await cachedCounter(counter, { maxEntries: 2 }).forEncoding('o200k_base')
    count(text(1))
    count(text(2))
    count(text(1))
    count(text(3)) // evicts text(2)
    count(text(1))
    count(text(2))
    expect(seen).toEqual([text(1), text(2), text(3), text(2)])
  })

  it('keeps at most maxChars characters and never keeps a longer text', async () => {
    const { counter, seen } = spying()
    const count = await cachedCounter(counter, { maxChars: 250 }).forEncoding('o200k_base')
    const long = 'y'.repeat(300)
    count(long)
    count(long)
    for (const n of [1, 2, 3]) count(text(n)) // 300 chars: text(1) goes
    count(text(3))
    count(text(1))
    expect(seen).toEqual([long, long, text(1), text(2), text(3), text(1)])
  })

  it('counts exactly like the counter it wraps', async () => {
    const plain = await loadTokenizer('o200k_base')
    const count = await cachedCounter({ name: 'gpt', exact: true, forEncoding: loadTokenizer }).forEncoding(
      'o200k_base',
    )
    fc.assert(
      fc.property(fc.string({ minLength: 60, maxLength: 200 }), (value) => {
        expect(count(value)).toBe(plain(value))
        expect(count(value)).toBe(plain(value))
      }),
    )
  })
})
