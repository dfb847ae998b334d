import { describe, expect, it } from 'vitest'
import { adversarialBodies } from './__fixtures__/adversarial-bodies'
import { measureBlockMs } from './__fixtures__/block-meter'
import { loadTokenizer } from './count-tokens'
import { estimateRequest } from './estimate-request'

describe('estimateRequest', () => {
  it('never blocks the event loop for more than 50 ms, whatever the body', async () => {
    await loadTokenizer('o200k_base')
    const blocks: Record<string, number> = {}
    for (const [name, build] of Object.entries(adversarialBodies())) {
      const body = build()
      blocks[name] = await measureBlockMs(() =>
        estimateRequest('/v1/chat/completions', body, { defaultMaxOutputTokens: 1 }),
      )
    }
    expect(
      Object.entries(blocks).filter(([, ms]) => ms > 50),
      JSON.stringify(blocks),
    ).toEqual([])
  }, 600_000)
})
