// Input the estimate cannot see (earlier turns, stored prompts, references) and a tier the request does
// not name must never let a hard limit be overspent: on the memory store and on Redis, through openai-node.
import { createMockOpenAI, fakeClock } from '@keyguard/testing'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connectClients, testPrefix } from '../../../redis/src/client/test-redis'
import { redisStore } from '../../../redis/src/store/redis-store'
import { memoryStore } from '../limits/memory-store'
import { spendLimit } from '../limits/spend-limit'
import type { KeyguardStore } from '../limits/store'
import { usd } from '../pricing/usd'
import { createKeyguard } from './create-keyguard'
import type { KeyguardOptions } from './keyguard-options'

const key = `sk-proj-${'Uns33nInput'.repeat(4)}T3stW8q8A`
let redis: Awaited<ReturnType<typeof connectClients>> | undefined
beforeAll(async () => {
  redis = await connectClients()
})
afterAll(async () => {
  await redis?.close()
})

const stores: [name: string, make: (now: () => number) => KeyguardStore][] = [
  ['memory', (now) => memoryStore({ now })],
  ['redis', () => redisStore({ client: redis!.ioredis, prefix: testPrefix('unseen'), timeoutMs: 5_000 })],
]

function setup(
  makeStore: (now: () => number) => KeyguardStore,
  limit: number,
  mock: ReturnType<typeof createMockOpenAI>,
  extra: Partial<KeyguardOptions> = {},
) {
  const clock = fakeClock('2026-11-28T12:00:00Z')
  const guard = createKeyguard({
    key,
    upstream: { fetch: mock.fetch },
    now: clock.now,
    store: makeStore(clock.now),
    limits: [spendLimit({ scope: 'tenant', limit, period: 'month' })],
    scope: { tenant: 't1' },
    logger: { warn: () => {}, error: () => {} },
    ...extra,
  })
  let settled = 0
  guard.on('settle', () => settled++)
  const openai = new OpenAI({ apiKey: 'unused', fetch: guard.fetch, maxRetries: 0 })
  return { guard, openai, settled: () => settled }
}

async function fire<T>(count: number, call: () => Promise<T>) {
  const results = await Promise.allSettled(Array.from({ length: count }, call))
  return results.filter((result) => result.status === 'fulfilled').length
}

const unseen: [name: string, body: Record<string, unknown>][] = [
  ['previous_response_id', { previous_response_id: 'resp_earlier', input: 'and then?' }],
  ['conversation', { conversation: 'conv_abc', input: 'and then?' }],
  ['a stored prompt', { prompt: { id: 'pmpt_abc', variables: { city: 'Paris' } } }],
  ['an item_reference', { input: [{ type: 'item_reference', id: 'msg_abc' }] }],
]

describe('createKeyguard', () => {
  for (const [storeName, makeStore] of stores) {
    for (const [name, body] of unseen) {
      it(`never overspends a hard limit on 50 concurrent calls with ${name} (${storeName})`, async () => {
        // Each call is billed 100k input tokens upstream that the request body does not show.
        const mock = createMockOpenAI({ usage: { promptTokens: 100_000 } })
        const limit = usd(0.5)
        const { guard, openai, settled } = setup(makeStore, limit, mock)
        const admitted = await fire(50, () =>
          openai.responses.create({ model: 'gpt-4o-mini', ...body } as never),
        )
        await expect.poll(settled).toBe(admitted)
        const [state] = await guard.usage()
        expect(admitted).toBeGreaterThan(0)
        expect(admitted).toBeLessThan(50)
        expect(state?.used).toBeLessThanOrEqual(limit)
      })
    }

    it(`never overspends a hard limit when a request naming no tier is billed at priority (${storeName})`, async () => {
      const mock = createMockOpenAI({ usage: { completionTokens: 1000 } })
      // The project's default tier is Priority: OpenAI answers (and bills) every call there.
      const upstream: typeof fetch = async (input, init) => {
        const response = await mock.fetch(input, init)
        const answer = (await response.json()) as Record<string, unknown>
        return Response.json({ ...answer, service_tier: 'priority' }, { status: response.status })
      }
      const limit = usd(0.01)
      const { guard, openai, settled } = setup(makeStore, limit, mock, { upstream: { fetch: upstream } })
      const admitted = await fire(50, () =>
        openai.chat.completions.create({
          model: 'gpt-4o-mini',
          messages: [{ role: 'user', content: 'Say hello' }],
          max_tokens: 1000,
        }),
      )
      await expect.poll(settled).toBe(admitted)
      const [state] = await guard.usage()
      expect(admitted).toBeGreaterThan(0)
      expect(state?.used).toBeLessThanOrEqual(limit)
    })

    it(`holds at the standard tier when the project default is configured so (${storeName})`, async () => {
      const mock = createMockOpenAI({ usage: { completionTokens: 1000 } })
      const limit = usd(0.01)
      const { guard, openai } = setup(makeStore, limit, mock, { estimate: { defaultServiceTier: 'default' } })
      await openai.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'Say hello' }],
        max_tokens: 1000,
      })
      const estimate = await guard.estimate({
        endpoint: '/v1/chat/completions',
        body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hello' }], max_tokens: 1000 },
      })
      expect(estimate?.serviceTier).toBe('default')
    })
  }
})
