// Oracle: gpt-tokenizer (through our guard) is bit-identical to OpenAI's own tiktoken on the corpus.
import { get_encoding } from 'tiktoken'
import { afterAll, describe, expect, it } from 'vitest'
import { corpus } from './__fixtures__/corpus'
import { loadTokenizer } from './count-tokens'

const encodings = ['o200k_base', 'cl100k_base'] as const
const oracles = Object.fromEntries(encodings.map((name) => [name, get_encoding(name)]))
afterAll(() => {
  for (const oracle of Object.values(oracles)) oracle.free()
})

describe('loadTokenizer', () => {
  for (const encoding of encodings) {
    it(`matches tiktoken on every corpus text (${encoding})`, async () => {
      const count = await loadTokenizer(encoding)
      const mismatches: string[] = []
      for (const [name, text] of Object.entries(corpus)) {
        const expected = oracles[encoding]?.encode_ordinary(text).length
        if (count(text) !== expected) mismatches.push(`${name}: ${count(text)} vs ${expected}`)
      }
      expect(mismatches).toEqual([])
    })

    it(`matches tiktoken on the whole corpus as one text (${encoding})`, async () => {
      const count = await loadTokenizer(encoding)
      const text = Object.values(corpus).join('\n')
      expect(count(text)).toBe(oracles[encoding]?.encode_ordinary(text).length)
    })
  }

  it('matches tiktoken on a long text it counts in slices', async () => {
    const count = await loadTokenizer('o200k_base')
    const text = `${'x9Q tail\n'.repeat(2000)}${'的是 '.repeat(1000)}`
    expect(count(text)).toBe(oracles.o200k_base?.encode_ordinary(text).length)
  })

  it('stays above tiktoken on a run it has to bound', async () => {
    const count = await loadTokenizer('o200k_base')
    const text = `${'x9Q'.repeat(2000)} tail`
    expect(count(text)).toBeGreaterThanOrEqual(oracles.o200k_base?.encode_ordinary(text).length ?? 0)
    expect(count(text)).toBeLessThanOrEqual(new TextEncoder().encode(text).length)
  })
})
