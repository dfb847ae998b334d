// Oracle: every model in both our table and @pydantic/genai-prices must agree on every rate both price.
import { calcPrice } from '@pydantic/genai-prices'
import { describe, expect, it } from 'vitest'
import { costOfUsage } from '../estimate/cost-of-usage'
import { modelInfo } from './model-info'
import { openaiPrices } from './openai-prices'

// Documented disagreements, each with the reason ours is kept.
const exceptions: Record<string, string> = {
  // genai-prices gives o3's pre-2025-06-10 row a $0.50 cached rate; OpenAI's launch price was $2.50 (25 % of $10).
  'o3@2024-11-01:cachedInput': 'genai-prices reuses the post-cut cached rate for the launch row',
  'o3@2025-05-01:cachedInput': 'genai-prices reuses the post-cut cached rate for the launch row',
}

const dates = ['2024-11-01', '2025-05-01', '2026-11-05']
// 100K tokens stays under every long-context threshold; ×10 gives the per-1M rate.
const probes = [
  ['input', 'input_mtok', { input_tokens: 100_000 }],
  ['cachedInput', 'cache_read_mtok', { input_tokens: 100_000, cache_read_tokens: 100_000 }],
  ['output', 'output_mtok', { output_tokens: 100_000 }],
  ['audioInput', 'input_audio_mtok', { input_tokens: 100_000, input_audio_tokens: 100_000 }],
  ['audioOutput', 'output_audio_mtok', { output_tokens: 100_000, output_audio_tokens: 100_000 }],
] as const
// The same calls as OpenAI reports their usage (chat completions), for costOfUsage.
const chatUsage = {
  input: { prompt_tokens: 100_000 },
  cachedInput: { prompt_tokens: 100_000, prompt_tokens_details: { cached_tokens: 100_000 } },
  output: { completion_tokens: 100_000 },
  audioInput: { prompt_tokens: 100_000, prompt_tokens_details: { audio_tokens: 100_000 } },
  audioOutput: { completion_tokens: 100_000, completion_tokens_details: { audio_tokens: 100_000 } },
} as const

describe('openaiPrices', () => {
  it('carries its version date', () => {
    expect(openaiPrices.asOf).toBe('2026-11-05')
  })

  it('agrees with @pydantic/genai-prices on every shared model and rate, except documented cases', () => {
    const compared: string[] = []
    const disagreements: string[] = []
    const excused = new Set<string>()
    for (const id of openaiPrices.models.keys()) {
      for (const date of dates) {
        const at = new Date(`${date}T12:00:00Z`)
        const ours = modelInfo(id, openaiPrices, at).prices.standard
        for (const [rate, field, usage] of probes) {
          const theirs = calcPrice(usage, id, { providerId: 'openai', timestamp: at })
          if (!theirs || theirs.model_price[field] === undefined) continue
          const theirNanos = Math.round(theirs.total_price * 1e10)
          const key = `${id}@${date}:${rate}`
          compared.push(key)
          if (theirNanos !== ours[rate] && exceptions[key]) excused.add(key)
          else if (theirNanos !== ours[rate])
            disagreements.push(`${key}: ours ${ours[rate]} theirs ${theirNanos}`)
        }
      }
    }
    expect(disagreements).toEqual([])
    // A stale exception (the two tables now agree) is removed, not kept.
    expect([...excused].sort()).toEqual(Object.keys(exceptions).sort())
    expect(compared.length).toBeGreaterThan(100)
  })

  it('prices every alias at least at the rate genai-prices gives that id, never at a cheaper row', () => {
    const cheaper: string[] = []
    let compared = 0
    for (const alias of openaiPrices.aliases.keys()) {
      for (const [rate, field, usage] of probes) {
        const theirs = calcPrice(usage, alias, { providerId: 'openai' })
        if (!theirs || theirs.model_price[field] === undefined) continue
        // What a call of 100K tokens costs through our settlement path, against their price of it.
        const ours = costOfUsage(alias, chatUsage[rate], { prices: openaiPrices }).totalNanos
        const theirNanos = Math.round(theirs.total_price * 1e9)
        compared++
        if (ours < theirNanos) cheaper.push(`${alias}:${rate}: ours ${ours} theirs ${theirNanos}`)
      }
    }
    expect(cheaper).toEqual([])
    expect(compared).toBeGreaterThan(10)
  })

  it('agrees on long-context tiers (the whole request at the higher rate)', () => {
    for (const [id, info] of openaiPrices.models) {
      const tier = info.rows[0]?.longContext
      if (!tier) continue
      const usage = { input_tokens: 300_000, output_tokens: 10_000 }
      const theirs = calcPrice(usage, id, { providerId: 'openai' })
      const ours = (300_000 * tier.input + 10_000 * tier.output) / 1e6
      expect(Math.round((theirs?.total_price ?? 0) * 1e9), id).toBe(ours)
    }
  })
})
