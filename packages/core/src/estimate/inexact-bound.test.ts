import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { functionDefinition } from './__fixtures__/function-schemas'
import { pngDataUrl } from './__fixtures__/png-data-url'
import { byteUpperBoundCounter } from './count-tokens'
import { estimateRequest } from './estimate-request'

const chat = (model: string, extra: Record<string, unknown>) => ({
  model,
  messages: [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Hi' },
  ],
  max_tokens: 1,
  ...extra,
})
const inputOf = async (body: unknown, options = {}) =>
  (await estimateRequest('/v1/chat/completions', body, options)) ?? expect.fail('no estimate')

// Each pair is one request counted two ways: exactly, and by a bound that is marked inexact. The bound
// must never be below the exact count.
describe('an inexact estimate', () => {
  it('is never below the exact count of an image of known size', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 8000 }),
        fc.integer({ min: 1, max: 8000 }),
        fc.constantFrom('gpt-4o', 'gpt-4o-mini', 'gpt-4.1', 'gpt-4.1-mini', 'gpt-4.1-nano', 'o3', 'o4-mini'),
        fc.constantFrom('low', 'high'),
        async (width, height, model, detail) => {
          const image = (url: string, choice: string) =>
            chat(model, {
              messages: [
                { role: 'user', content: [{ type: 'image_url', image_url: { url, detail: choice } }] },
              ],
            })
          const known = await inputOf(image(pngDataUrl(width, height), detail))
          const unknownSize = await inputOf(image('https://example.com/image.png', detail))
          const unknownChoice = await inputOf(image(pngDataUrl(width, height), 'auto'))
          expect(known.exact).toBe(true)
          // A URL hides the size: inexact unless the formula ignores it (`low` on a tile family).
          if (detail === 'high') expect(unknownSize.exact).toBe(false)
          for (const estimate of [unknownSize, unknownChoice])
            if (!estimate.exact) expect(estimate.inputTokens).toBeGreaterThanOrEqual(known.inputTokens)
        },
      ),
      { numRuns: 60 },
    )
  })

  it('is never below the exact count of function definitions', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(functionDefinition, { minLength: 1, maxLength: 3 }), async (functions) => {
        const tools = functions.map((fn) => ({ type: 'function', function: fn }))
        const exact = await inputOf(chat('gpt-4o', { tools }))
        // gpt-4.1: same tokenizer, unpublished tool framing, held above.
        const unpublished = await inputOf(chat('gpt-4.1', { tools }))
        // The byte bound, when the tokenizer cannot be used.
        const bytes = await inputOf(chat('gpt-4o', { tools }), { counter: byteUpperBoundCounter })
        expect(exact.exact).toBe(true)
        for (const bound of [unpublished, bytes]) {
          expect(bound.exact).toBe(false)
          expect(bound.inputTokens).toBeGreaterThanOrEqual(exact.inputTokens)
        }
      }),
      { numRuns: 60 },
    )
  })
})
