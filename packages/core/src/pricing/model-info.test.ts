import { describe, expect, it } from 'vitest'
import { isKeyguardError } from '../errors/keyguard-error'
import { definePrices } from './define-prices'
import { modelInfo } from './model-info'
import { openaiPrices } from './openai-prices'

const thrownBy = (fn: () => unknown) => {
  try {
    fn()
  } catch (error) {
    return error
  }
  throw new Error('expected a throw')
}

describe('modelInfo', () => {
  it('prices chatgpt-4o-latest and older gpt-3.5-turbo snapshots at their own rates', () => {
    const rates = (id: string) => {
      const { input, output } = modelInfo(id).prices.standard
      return [input / 1e9, output / 1e9]
    }
    expect(rates('chatgpt-4o-latest')).toEqual([5, 15])
    expect(rates('gpt-3.5-turbo-0301')).toEqual([1.5, 2])
    expect(rates('gpt-3.5-turbo-0613')).toEqual([1.5, 2])
    expect(rates('gpt-3.5-turbo-1106')).toEqual([1, 2])
    expect(rates('gpt-3.5-turbo-0125')).toEqual([0.5, 1.5])
    expect(modelInfo('gpt-4o-audio-preview-2024-10-01').prices.standard.audioInput).toBe(100_000_000_000)
  })

  it('refuses a dated snapshot it does not list instead of pricing it as its family', () => {
    for (const id of ['gpt-4o-2099-01-01', 'gpt-3.5-turbo-0914', 'gpt-4o-mini-2030-01-01']) {
      const error = thrownBy(() => modelInfo(id))
      expect(isKeyguardError(error) && error.code, id).toBe('estimate.unknown_model')
    }
  })

  it('names one identity per price row: snapshots and aliases share it, fine-tuned ids get their own', () => {
    for (const id of ['gpt-4o', 'gpt-4o-2024-08-06', 'gpt-4o-2024-11-20'])
      expect(modelInfo(id).pricedAs).toBe('gpt-4o')
    expect(modelInfo('chatgpt-4o-latest').pricedAs).toBe('chatgpt-4o-latest')
    expect(modelInfo('gpt-4o-2024-05-13').pricedAs).toBe('gpt-4o-2024-05-13')
    expect(modelInfo('ft:gpt-4o-mini-2024-07-18:acme::AbC123').pricedAs).toBe('ft:gpt-4o-mini')
  })

  it('resolves a dated snapshot to its family', () => {
    const info = modelInfo('gpt-4o-2024-08-06')
    expect(info.id).toBe('gpt-4o')
    expect(info.prices.standard.input).toBe(2_500_000_000)
    expect(modelInfo('gpt-4o-mini-2024-07-18').id).toBe('gpt-4o-mini')
    expect(modelInfo('gpt-4-0613').id).toBe('gpt-4')
  })

  it('keeps a snapshot that has its own price', () => {
    const info = modelInfo('gpt-4o-2024-05-13')
    expect(info.id).toBe('gpt-4o-2024-05-13')
    expect(info.prices.standard.input).toBe(5_000_000_000)
  })

  it('prices a fine-tuned id at its base model fine-tuned rates', () => {
    const info = modelInfo('ft:gpt-4o-mini-2024-07-18:acme::AbC123')
    expect(info.id).toBe('gpt-4o-mini')
    expect(info.fineTuned).toBe(true)
    expect(info.prices.standard).toMatchObject({
      input: 300_000_000,
      cachedInput: 150_000_000,
      output: 1_200_000_000,
    })
    expect(info.prices.batch.input).toBe(150_000_000)
  })

  it('fails closed on a fine-tuned id whose base has no fine-tuning price', () => {
    const error = thrownBy(() => modelInfo('ft:o3:acme::x'))
    expect(isKeyguardError(error) && error.code).toBe('estimate.unknown_model')
  })

  it('fails closed on an unknown model with a fix in the hint', () => {
    const error = thrownBy(() => modelInfo('gpt-9-ultra'))
    expect(isKeyguardError(error) && error.code).toBe('estimate.unknown_model')
    expect(isKeyguardError(error) && error.operatorHint).toContain('definePrices')
    expect(isKeyguardError(thrownBy(() => modelInfo('')))).toBe(true)
  })

  it('picks the price row in force at the given date', () => {
    expect(modelInfo('o3', openaiPrices, new Date('2025-05-01')).prices.standard.input).toBe(10_000_000_000)
    expect(modelInfo('o3', openaiPrices, new Date('2025-06-10T00:00:00Z')).prices.standard.input).toBe(
      2_000_000_000,
    )
  })

  it('follows user aliases such as Azure deployment names', () => {
    const prices = definePrices(
      { models: {}, aliases: { 'prod-chat': 'gpt-4.1-mini' } },
      { extends: openaiPrices },
    )
    expect(modelInfo('prod-chat', prices).id).toBe('gpt-4.1-mini')
    expect(modelInfo('prod-chat', prices).asOf).toBe('2026-11-05')
  })

  it('chooses the tokenizer encoding by model family', () => {
    expect(modelInfo('gpt-4o').encoding).toBe('o200k_base')
    expect(modelInfo('gpt-5').encoding).toBe('o200k_base')
    expect(modelInfo('o3').encoding).toBe('o200k_base')
    expect(modelInfo('gpt-4').encoding).toBe('cl100k_base')
    expect(modelInfo('gpt-3.5-turbo').encoding).toBe('cl100k_base')
    expect(modelInfo('text-embedding-3-small').encoding).toBe('cl100k_base')
    const withOss = definePrices(
      {
        models: {
          'gpt-oss-120b': {
            contextWindow: 131_072,
            maxOutputTokens: 131_072,
            prices: [{ input: 0.1, output: 0.5 }],
          },
        },
      },
      { extends: openaiPrices },
    )
    expect(modelInfo('gpt-oss-120b', withOss).encoding).toBe('o200k_harmony')
  })
})

describe('definePrices', () => {
  it('converts USD per 1M tokens to integer nanos per 1M once, with tier fallbacks', () => {
    const prices = definePrices({
      asOf: '2026-01-01',
      models: { m: { contextWindow: 1000, maxOutputTokens: 100, prices: [{ input: 0.15, output: 0.6 }] } },
    })
    const row = modelInfo('m', prices).prices
    expect(row.standard).toMatchObject({ input: 150_000_000, cachedInput: 150_000_000, output: 600_000_000 })
    expect(row.batch).toMatchObject({ input: 75_000_000, output: 300_000_000 })
    expect(row.flex).toEqual(row.batch)
    expect(row.priority).toEqual(row.standard)
  })

  it('overrides a base model with negotiated rates', () => {
    const prices = definePrices(
      {
        models: {
          'gpt-4o': { contextWindow: 128_000, maxOutputTokens: 16_384, prices: [{ input: 2, output: 8 }] },
        },
      },
      { extends: openaiPrices },
    )
    expect(modelInfo('gpt-4o', prices).prices.standard.input).toBe(2_000_000_000)
    expect(modelInfo('gpt-4o', openaiPrices).prices.standard.input).toBe(2_500_000_000)
  })

  it('lists every problem in one config.invalid error', () => {
    const error = thrownBy(() =>
      definePrices({
        asOf: 'yesterday',
        models: { m: { contextWindow: -1, maxOutputTokens: 1, prices: [{ input: -2 }] } },
      }),
    )
    expect(isKeyguardError(error) && error.code).toBe('config.invalid')
    expect(isKeyguardError(error) && error.problems.map((p) => p.path)).toEqual(
      expect.arrayContaining(['asOf', 'models.m.contextWindow', 'models.m.prices[0].input']),
    )
  })

  it('rejects a misspelt field, which would fall back to a cheaper rate, naming the one it meant', () => {
    const row = { input: 5, output: 15, priorty: { input: 10, output: 30 } }
    const error = thrownBy(() =>
      definePrices({
        asOf: '2026-01-01',
        models: { m: { contextWindow: 10, maxOutputTokens: 1, prices: [row] } },
      }),
    )
    expect(isKeyguardError(error) && error.code).toBe('config.invalid')
    expect(isKeyguardError(error) && error.problems).toEqual([
      expect.objectContaining({
        path: 'models.m.prices[0].priorty',
        message: expect.stringContaining('priority'),
      }),
    ])
    expect(() => definePrices({ asOf: '2026-01-01', models: {} }, { extend: openaiPrices } as never)).toThrow(
      /unknown option `extend`; did you mean `extends`\?/,
    )
  })

  it('rejects an alias to a model that is not in the table', () => {
    expect(() => definePrices({ asOf: '2026-01-01', models: {}, aliases: { a: 'nope' } })).toThrow(
      /aliases\.a/,
    )
  })

  it('rejects a price finer than a nano per 1M tokens', () => {
    expect(() =>
      definePrices({
        asOf: '2026-01-01',
        models: { m: { contextWindow: 10, maxOutputTokens: 1, prices: [{ input: 0.0000000001 }] } },
      }),
    ).toThrow(/precision/)
  })
})
