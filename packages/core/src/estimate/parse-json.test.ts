import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseJson } from './parse-json'

const outcome = async (parse: () => unknown) => {
  try {
    return { ok: true, value: await parse() }
  } catch (error) {
    return { ok: false, error: error instanceof SyntaxError }
  }
}

describe('parseJson', () => {
  it('returns what JSON.parse returns, however small the chunks it parses', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.json({ maxDepth: 6 }),
        fc.integer({ min: 1, max: 16 }),
        async (text, chunkChars) => {
          expect(await parseJson(text, { chunkChars })).toStrictEqual(JSON.parse(text))
        },
      ),
      { numRuns: 300 },
    )
  })

  it('rejects exactly the texts JSON.parse rejects', async () => {
    const broken = fc
      .tuple(
        fc.json({ maxDepth: 4 }),
        fc.nat(),
        fc.constantFrom('', ',', ':', ']', '}', '"', '\\', '[', '{', ' '),
      )
      .map(([text, at, insert]) => {
        const index = at % (text.length + 1)
        return text.slice(0, index) + insert + text.slice(index + (insert === '' ? 1 : 0))
      })
    await fc.assert(
      fc.asyncProperty(broken, fc.integer({ min: 1, max: 8 }), async (text, chunkChars) => {
        const ours = await outcome(() => parseJson(text, { chunkChars }))
        const theirs = await outcome(() => JSON.parse(text))
        expect(ours.ok).toBe(theirs.ok)
        if (ours.ok) expect(ours.value).toStrictEqual(theirs.value)
        else expect(ours.error).toBe(true)
      }),
      { numRuns: 500 },
    )
  })

  it('decodes a large string in pieces, escapes and surrogate pairs included', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: 'binary', maxLength: 80 }),
        fc.integer({ min: 1, max: 9 }),
        async (value, chunkChars) => {
          const text = JSON.stringify({ content: value, escaped: `\u00e9${value}` })
          expect(await parseJson(text, { chunkChars })).toStrictEqual(JSON.parse(text))
        },
      ),
      { numRuns: 300 },
    )
    const escapes = String.raw`{"a":"x\u00e9\ud83d\ude00\n\"\\yz"}`
    for (let chunkChars = 1; chunkChars < 12; chunkChars++)
      expect(await parseJson(escapes, { chunkChars })).toStrictEqual(JSON.parse(escapes))
  })

  it('keeps a __proto__ member as an own property, as JSON.parse does', async () => {
    const text = '{"__proto__": {"polluted": true}, "a": [1, 2, 3]}'
    const parsed = (await parseJson(text, { chunkChars: 4 })) as Record<string, unknown>
    expect(Object.hasOwn(parsed, '__proto__')).toBe(true)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(parsed).toStrictEqual(JSON.parse(text))
  })

  it('refuses large containers nested deeper than maxDepth', async () => {
    const deep = `${'['.repeat(50)}1${']'.repeat(50)}`
    await expect(parseJson(deep, { chunkChars: 4, maxDepth: 10 })).rejects.toThrow(SyntaxError)
    expect(await parseJson(deep, { chunkChars: 4096 })).toStrictEqual(JSON.parse(deep))
  })
})
