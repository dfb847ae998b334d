import { createKeyguard, requestLimit, spendLimit, usd } from '@keyguard/core'
import { createMockOpenAI, exampleMockKey } from '@keyguard/testing'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { redisUrl, testPrefix, unreachable } from '../client/test-redis'
import { redisStore } from './redis-store'

let client: Redis
beforeAll(async () => {
  client = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 })
  client.on('error', () => {})
  await client.connect().catch((error: unknown) => {
    client.disconnect()
    throw unreachable(redisUrl, error)
  })
})
afterAll(() => client.quit())

describe('redisStore', () => {
  it('writes nothing for a request whose scope a limit cannot key, and the guard refuses it with scope.missing', async () => {
    const prefix = testPrefix('scope')
    const mock = createMockOpenAI({ validKeys: [exampleMockKey] })
    const guard = createKeyguard({
      key: exampleMockKey,
      upstream: { fetch: mock.fetch },
      logger: { warn() {}, error() {} },
      store: redisStore({ client, prefix, fallback: 'deny', timeoutMs: 2000 }),
      limits: [
        requestLimit({ scope: 'global', limit: 100, windowMs: 60_000 }),
        spendLimit({ scope: 'tenant', limit: usd(0.000000001), period: 'month' }),
      ],
    })
    const body = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] })
    for (const scope of [{}, { tenant: undefined }, { tenant: '' }, { tenant: '  ' }]) {
      const response = await guard.for(scope).fetch('https://api.openai.com/v1/chat/completions', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      })
      expect(response.status).toBe(500)
      expect(await response.json()).toMatchObject({ error: { code: 'scope.missing' } })
    }
    expect(mock.requests).toHaveLength(0)
    expect(await client.keys(`*${prefix}*`)).toEqual([])
  })
})
