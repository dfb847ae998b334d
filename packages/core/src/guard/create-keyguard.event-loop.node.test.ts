import { describe, expect, it } from 'vitest'
import { adversarialBodies } from '../estimate/__fixtures__/adversarial-bodies'
import { measureBlockMs } from '../estimate/__fixtures__/block-meter'
import { loadTokenizer } from '../estimate/count-tokens'
import { createKeyguard } from './create-keyguard'

describe('createKeyguard', () => {
  it('never blocks the event loop for more than 50 ms, whatever the request body up to the cap', async () => {
    await loadTokenizer('o200k_base')
    const upstream = async () =>
      Response.json({
        id: 'chatcmpl-1',
        object: 'chat.completion',
        model: 'gpt-4.1',
        choices: [],
        usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
      })
    const guard = createKeyguard({
      key: `sk-proj-${'Ev3ntL00p'.repeat(5)}T3stW8q8A`,
      upstream: { fetch: upstream },
      logger: { warn: () => {}, error: () => {} },
    })
    const texts: Record<string, () => string> = {
      // JSON.parse alone takes 1M-deep nesting for over half a second.
      'deep nesting text': () =>
        `{"model":"gpt-4.1","messages":${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}}`,
    }
    for (const [name, build] of Object.entries(adversarialBodies()))
      texts[name] = () => JSON.stringify(build())
    const blocks: Record<string, number> = {}
    for (const [name, build] of Object.entries(texts)) {
      const body = build()
      blocks[name] = await measureBlockMs(async () => {
        const response = await guard.fetch('https://api.openai.com/v1/chat/completions', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        })
        await response.text()
      })
    }
    expect(
      Object.entries(blocks).filter(([, ms]) => ms > 50),
      JSON.stringify(blocks),
    ).toEqual([])
  }, 600_000)
})
