import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isKeyguardError } from '../errors/keyguard-error'
import { openaiPrices } from '../pricing/openai-prices'
import { costOfUsage, priceTokens } from './cost-of-usage'

describe('costOfUsage', () => {
  it('prices chat usage with cached input', () => {
    const cost = costOfUsage('gpt-4o-mini', {
      prompt_tokens: 1200,
      completion_tokens: 300,
      total_tokens: 1500,
      prompt_tokens_details: { cached_tokens: 1024 },
    })
    // 176 × $0.15/1M + 1024 × $0.075/1M + 300 × $0.60/1M
    expect(cost.breakdown).toMatchObject({ input: 26_400, cachedInput: 76_800, output: 180_000 })
    expect(cost.totalNanos).toBe(283_200)
    expect(cost.asOf).toBe(openaiPrices.asOf)
    expect(cost.tokens).toEqual({ input: 1200, cachedInput: 1024, output: 300, reasoning: 0, total: 1500 })
  })

  it('bills reasoning tokens as output and reports them', () => {
    const cost = costOfUsage('o3', {
      prompt_tokens: 100,
      completion_tokens: 1000,
      completion_tokens_details: { reasoning_tokens: 800, rejected_prediction_tokens: 0 },
    })
    expect(cost.breakdown.output).toBe(8_000_000)
    expect(cost.tokens.reasoning).toBe(800)
  })

  it('prices Responses API usage', () => {
    const cost = costOfUsage('gpt-5', {
      input_tokens: 2000,
      input_tokens_details: { cached_tokens: 1000 },
      output_tokens: 500,
      output_tokens_details: { reasoning_tokens: 400 },
      total_tokens: 2500,
    })
    // 1000 × $1.25/1M + 1000 × $0.125/1M + 500 × $10/1M
    expect(cost.totalNanos).toBe(1_250_000 + 125_000 + 5_000_000)
    expect(cost.tokens.reasoning).toBe(400)
  })

  it('prices embeddings usage as input only', () => {
    expect(
      costOfUsage('text-embedding-3-small', { prompt_tokens: 1000, total_tokens: 1000 }).totalNanos,
    ).toBe(20_000)
  })

  it('prices audio tokens at audio rates', () => {
    const cost = costOfUsage('gpt-4o-audio-preview-2024-12-17', {
      prompt_tokens: 1100,
      completion_tokens: 600,
      prompt_tokens_details: { audio_tokens: 1000 },
      completion_tokens_details: { audio_tokens: 500 },
    })
    expect(cost.breakdown).toMatchObject({
      input: 250_000,
      audioInput: 40_000_000,
      output: 1_000_000,
      audioOutput: 40_000_000,
    })
  })

  it('prices the tier the response reports, and batch', () => {
    const usage = { prompt_tokens: 1_000_000, completion_tokens: 1_000_000 }
    expect(costOfUsage('gpt-5', usage).totalNanos).toBe(11_250_000_000)
    expect(costOfUsage('gpt-5', usage, { serviceTier: 'default' }).totalNanos).toBe(11_250_000_000)
    expect(costOfUsage('gpt-5', usage, { serviceTier: 'priority' }).totalNanos).toBe(22_500_000_000)
    expect(costOfUsage('gpt-5', usage, { serviceTier: 'flex' }).totalNanos).toBe(5_625_000_000)
    expect(costOfUsage('gpt-5', usage, { batch: true }).totalNanos).toBe(5_625_000_000)
  })

  it('bills the whole request at the long-context rate above the threshold', () => {
    expect(costOfUsage('gpt-5.4', { input_tokens: 272_000, output_tokens: 0 }).totalNanos).toBe(680_000_000)
    expect(costOfUsage('gpt-5.4', { input_tokens: 272_001, output_tokens: 0 }).totalNanos).toBe(1_360_005_000)
  })

  it('uses the price in force when the call was made', () => {
    const usage = { prompt_tokens: 1000, completion_tokens: 0 }
    expect(costOfUsage('o3', usage, { at: new Date('2025-05-01') }).totalNanos).toBe(10_000_000)
    expect(costOfUsage('o3', usage, { at: new Date('2025-07-01') }).totalNanos).toBe(2_000_000)
  })

  it('fails closed on an unknown model instead of costing $0', () => {
    const error = (() => {
      try {
        costOfUsage('my-custom-model', { prompt_tokens: 1, completion_tokens: 1 })
      } catch (e) {
        return e
      }
    })()
    expect(isKeyguardError(error) && error.code).toBe('estimate.unknown_model')
  })

  it('rejects something that is not a usage object', () => {
    expect(() => costOfUsage('gpt-4o', { foo: 1 })).toThrow(/usage/)
    expect(() => costOfUsage('gpt-4o', null)).toThrow(/usage/)
  })

  const chatUsage = fc.record({
    prompt: fc.integer({ min: 0, max: 2_000_000 }),
    cached: fc.integer({ min: 0, max: 2_000_000 }),
    completion: fc.integer({ min: 0, max: 200_000 }),
    reasoning: fc.integer({ min: 0, max: 200_000 }),
  })
  const models = fc.constantFrom('gpt-4o-mini', 'gpt-5', 'gpt-5.4', 'o1-pro', 'gpt-4.1-nano', 'o3')
  const toUsage = (u: { prompt: number; cached: number; completion: number; reasoning: number }) => ({
    prompt_tokens: u.prompt,
    completion_tokens: u.completion,
    prompt_tokens_details: { cached_tokens: Math.min(u.cached, u.prompt) },
    completion_tokens_details: { reasoning_tokens: Math.min(u.reasoning, u.completion) },
  })

  it('returns integer nanos whose breakdown sums to the total exactly', () => {
    fc.assert(
      fc.property(
        models,
        chatUsage,
        fc.constantFrom('default', 'flex', 'priority'),
        (model, u, serviceTier) => {
          const cost = costOfUsage(model, toUsage(u), { serviceTier })
          const sum = Object.values(cost.breakdown).reduce((a, b) => a + b, 0)
          return Number.isSafeInteger(cost.totalNanos) && sum === cost.totalNanos && cost.totalNanos >= 0
        },
      ),
    )
  })

  it('never costs less for more prompt or completion tokens', () => {
    fc.assert(
      fc.property(models, chatUsage, fc.integer({ min: 1, max: 100_000 }), (model, u, extra) => {
        const base = costOfUsage(model, toUsage(u)).totalNanos
        const morePrompt = costOfUsage(model, toUsage({ ...u, prompt: u.prompt + extra })).totalNanos
        const moreCompletion = costOfUsage(
          model,
          toUsage({ ...u, completion: u.completion + extra }),
        ).totalNanos
        return morePrompt >= base && moreCompletion >= base
      }),
    )
  })

  it('never costs more for more cached tokens of the same prompt', () => {
    fc.assert(
      fc.property(models, chatUsage, fc.integer({ min: 1, max: 100_000 }), (model, u, extra) => {
        const base = costOfUsage(model, toUsage(u)).totalNanos
        return (
          costOfUsage(model, toUsage({ ...u, cached: Math.min(u.prompt, u.cached) + extra })).totalNanos <=
          base
        )
      }),
    )
  })
})

describe('priceTokens', () => {
  it('is exact where a double would overflow 2^53', () => {
    // o1-pro output: $600/1M × 20M tokens = $12,000 = 1.2e13 nanos; the product 1.2e19 needs BigInt.
    expect(priceTokens(20_000_000, 600_000_000_000)).toBe(12_000_000_000_000)
  })
  it('rounds a half nano up, and rounds up for reservations', () => {
    // $0.0025/1M (gpt-5-nano flex cached) is 2.5 nanos a token; $0.0024/1M would be 2.4.
    expect(priceTokens(1, 2_500_000)).toBe(3)
    expect(priceTokens(1, 2_400_000)).toBe(2)
    expect(priceTokens(1, 2_400_000, 'up')).toBe(3)
    expect(priceTokens(3, 2_400_000)).toBe(7) // 7.2
  })
})
