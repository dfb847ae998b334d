// Oracle: costOfUsage agrees with @pydantic/genai-prices on random usage for every model both price.
import { calcPrice } from '@pydantic/genai-prices'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { openaiPrices } from '../pricing/openai-prices'
import { costOfUsage } from './cost-of-usage'

const at = new Date('2026-11-05T12:00:00Z')
const shared = [...openaiPrices.models.keys()].filter(
  (id) => calcPrice({ input_tokens: 1 }, id, { providerId: 'openai', timestamp: at }) !== null,
)

describe('costOfUsage', () => {
  it('matches genai-prices to within float rounding on random chat usage', () => {
    expect(shared.length).toBeGreaterThan(20)
    fc.assert(
      fc.property(
        fc.constantFrom(...shared),
        // Under 271 999 input tokens: genai-prices starts long-context tiers one token earlier than OpenAI's "over 272K".
        fc.integer({ min: 0, max: 271_000 }),
        fc.integer({ min: 0, max: 271_000 }),
        fc.integer({ min: 0, max: 100_000 }),
        (model, prompt, cachedRaw, completion) => {
          const cached = Math.min(prompt, cachedRaw)
          const ours = costOfUsage(
            model,
            {
              prompt_tokens: prompt,
              completion_tokens: completion,
              prompt_tokens_details: { cached_tokens: cached },
            },
            { at },
          ).totalNanos
          const theirs = calcPrice(
            { input_tokens: prompt, cache_read_tokens: cached, output_tokens: completion },
            model,
            { providerId: 'openai', timestamp: at },
          )
          // Their float dollars lose a few nanos at most; each of our lines is within half a nano.
          expect(
            Math.abs(ours - Math.round((theirs?.total_price ?? Number.NaN) * 1e9)),
            model,
          ).toBeLessThanOrEqual(3)
        },
      ),
      { numRuns: 500 },
    )
  })
})
