import { concurrencyLimit, createKeyguard, type SettleEvent, spendLimit } from '@keyguard/core'
import { createMockOpenAI } from '@keyguard/testing'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import type { RedisClientLike } from '../client/redis-client'
import { connectClients, testPrefix } from '../client/test-redis'
import { redisStore } from './redis-store'

const canary = `sk-proj-${'C4n4ryK3y'.repeat(5)}T3stW8q8A`
const url = 'https://api.openai.com/v1'
const chat = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Count to ten' }] }

let connection: Awaited<ReturnType<typeof connectClients>>
beforeAll(async () => {
  connection = await connectClients()
})
afterAll(async () => {
  await connection.close()
})
afterEach(() => {
  vi.useRealTimers()
})

/** A concurrency-1 tenant guarded on Redis, with its settles. */
function setup(client: RedisClientLike) {
  const settles: SettleEvent[] = []
  const waiters: ((event: SettleEvent) => void)[] = []
  const guard = createKeyguard({
    key: canary,
    // Costs here are at the standard tier; an unnamed tier would be held (and, unread, settled) at priority.
    estimate: { defaultServiceTier: 'default' },
    upstream: { fetch: createMockOpenAI({ reply: 'one two three' }).fetch },
    store: redisStore({ client, prefix: testPrefix('guard-bodies'), timeoutMs: 5_000 }),
    limits: [
      concurrencyLimit({ scope: 'tenant', limit: 1 }),
      spendLimit({ scope: 'tenant', limit: 1_000_000_000, period: 'day' }),
    ],
    logger: { warn: () => {}, error: () => {} },
  }).for({ tenant: 't1' })
  guard.on('settle', (event) => {
    settles.push(event)
    waiters.shift()?.(event)
  })
  const settled = () =>
    settles.length > 0
      ? Promise.resolve(settles.shift() as SettleEvent)
      : new Promise<SettleEvent>((resolve) => waiters.push(resolve))
  const post = (body: Record<string, unknown>) =>
    guard.fetch(`${url}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
  return { post, settled, settles }
}

describe('redisStore under a guard', () => {
  it.each(['ioredis', 'node-redis'] as const)(
    'frees the slot of a stream nobody reads within 60 s, charging the prompt (%s)',
    async (name) => {
      const client = connection.clients.find(([label]) => label === name)?.[1] as RedisClientLike
      const { post, settled } = setup(client)
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
      const stream = await post({ ...chat, stream: true })
      expect(stream.status).toBe(200)
      const busy = await post(chat)
      expect(busy.status).toBe(429)
      await busy.text()
      await vi.advanceTimersByTimeAsync(60_000)
      const abandoned = await settled()
      expect(abandoned).toMatchObject({ ending: 'abandoned', estimated: true })
      expect(abandoned.costNanos).toBeGreaterThan(0)
      expect(abandoned.costNanos).toBeLessThan(abandoned.estimate?.maxCostNanos as number)
      vi.useRealTimers()
      const next = await post(chat)
      expect(next.status).toBe(200)
      await next.text()
    },
  )

  it.each(['ioredis', 'node-redis'] as const)(
    'settles a JSON body nobody reads at its usage at once (%s)',
    async (name) => {
      const client = connection.clients.find(([label]) => label === name)?.[1] as RedisClientLike
      const { post, settled } = setup(client)
      const unread = await post(chat)
      expect(unread.status).toBe(200)
      expect(await settled()).toMatchObject({ ending: 'complete', estimated: false })
      const next = await post(chat)
      expect(next.status).toBe(200)
    },
  )
})
