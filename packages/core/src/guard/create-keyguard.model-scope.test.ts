import { createMockOpenAI, fakeClock } from '@keyguard/testing'
import OpenAI from 'openai'
import { describe, expect, it } from 'vitest'
import { memoryStore } from '../limits/memory-store'
import { spendLimit } from '../limits/spend-limit'
import { usd } from '../pricing/usd'
import { createKeyguard } from './create-keyguard'

describe('createKeyguard', () => {
  it('keys a model-scoped limit on the price row, so snapshots of one model share its budget', async () => {
    const clock = fakeClock('2026-11-28T12:00:00Z')
    const guard = createKeyguard({
      key: `sk-proj-${'M0d3lSc0pe'.repeat(4)}T3stW8q8A`,
      // Every call is billed its whole output bound, so one call spends what it held.
      upstream: { fetch: createMockOpenAI({ usage: { completionTokens: 1000 } }).fetch },
      now: clock.now,
      store: memoryStore({ now: clock.now }),
      // Room for one gpt-4o call of 1000 output tokens (about $0.010), not two; and for one chatgpt-4o-latest ($0.015).
      limits: [spendLimit({ scope: 'model', limit: usd(0.016), period: 'month' })],
      estimate: { defaultServiceTier: 'default' },
    })
    const openai = new OpenAI({ apiKey: 'unused', fetch: guard.fetch, maxRetries: 0 })
    const call = (model: string) =>
      openai.chat.completions
        .create({ model, messages: [{ role: 'user', content: 'Hi' }], max_tokens: 1000 })
        .then(
          () => 'ok',
          (error: { status?: number }) => error.status,
        )
    // The first takes the gpt-4o budget, the snapshots find it spent.
    const results = await Promise.all(['gpt-4o', 'gpt-4o-2024-08-06', 'gpt-4o-2024-11-20'].map(call))
    expect(results.filter((result) => result === 'ok')).toHaveLength(1)
    // A different price row is a different model: its own budget.
    expect(await call('chatgpt-4o-latest')).toBe('ok')
  })
})
