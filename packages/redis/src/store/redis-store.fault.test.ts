import type { Charge, LimitRule } from '@keyguard/core'
import { Redis } from 'ioredis'
import { createClient } from 'redis'
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { RedisClientLike } from '../client/redis-client'
import { testPrefix } from '../client/test-redis'
import { type OwnRedis, ownRedis, until } from './__fixtures__/redis-server'
import { redisStore } from './redis-store'

// The test runs its own redis-server on a spare port, kills it mid-run and starts it again.

let redis: OwnRedis | undefined
afterAll(() => redis?.kill())

const spend: LimitRule = {
  kind: 'spend',
  limitNanos: 1_000_000,
  period: { id: 'p', endsAt: Date.now() + 3_600_000 },
  softNanos: [],
}
const rpm: LimitRule = { kind: 'requests', limit: 8, windowMs: 60_000 }

const clients: Record<
  string,
  (port: number) => Promise<{ client: RedisClientLike; close(): Promise<void> }>
> = {
  ioredis: async (port) => {
    const client = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 1, retryStrategy: () => 100 })
    client.on('error', () => {})
    return { client, close: async () => client.disconnect() }
  },
  'node-redis': async (port) => {
    const client = createClient({
      url: `redis://127.0.0.1:${port}`,
      socket: { reconnectStrategy: () => 100 },
    })
    client.on('error', () => {})
    await client.connect()
    return {
      client: client as unknown as RedisClientLike,
      close: async () => {
        client.destroy()
      },
    }
  },
}

let unhandled: unknown[] = []
const onUnhandled = (reason: unknown) => unhandled.push(reason)
beforeEach(() => {
  unhandled = []
  process.on('unhandledRejection', onUnhandled)
})
afterEach(() => {
  process.off('unhandledRejection', onUnhandled)
})

describe.each(Object.keys(clients))('redisStore when Redis goes away (%s)', (name) => {
  it('denies spend while Redis is down, falls back for rate limits, and recovers when it returns', async () => {
    // configured as the README asks, so the only warnings are the outage's
    redis = await ownRedis(['--save', '', '--appendonly', 'yes', '--appendfsync', 'everysec'])
    const port = redis.port
    const { client, close } = await (
      clients[name] as (port: number) => ReturnType<(typeof clients)['ioredis']>
    )(port)
    const logger = { warn: vi.fn(), error: vi.fn() }
    const onStoreError = vi.fn()
    const store = redisStore({
      client,
      prefix: testPrefix(`fault-${name}`),
      // Long enough for a live Redis to answer on a busy machine; a dead one refuses the connection at once.
      timeoutMs: 2_000,
      expectedInstances: 4,
      breaker: { failureThreshold: 2, cooldownMs: 200 },
      logger,
      onStoreError,
    })
    let n = 0
    const reserve = (charges: Charge[]) => store.reserve({ id: `r${n++}`, charges, leaseMs: 30_000 })
    const spendCharge: Charge[] = [{ scope: 'tenant:a', policy: 'spend', rule: spend, amount: 1000 }]
    const rateCharge: Charge[] = [{ scope: 'tenant:a', policy: 'rpm', rule: rpm, amount: 1 }]
    try {
      // up: both go to Redis
      expect((await reserve(spendCharge)).ok).toBe(true)
      expect((await reserve(rateCharge)).ok).toBe(true)
      expect(logger.warn).not.toHaveBeenCalled()

      await redis.kill()
      // down: spend fails closed, every time, whether the circuit is closed or open
      for (let i = 0; i < 4; i++) {
        await expect(reserve(spendCharge)).rejects.toMatchObject({
          code: 'store.unavailable',
          clientStatus: 503,
        })
      }
      // rate limits: a local store, the limit divided by expectedInstances (8 / 4 = 2)
      const local = [await reserve(rateCharge), await reserve(rateCharge), await reserve(rateCharge)]
      expect(local.map((result) => result.ok)).toEqual([true, true, false])
      expect(!local[2]?.ok && local[2]?.denial.limit).toBe(2)
      expect(logger.warn).toHaveBeenCalledTimes(1)
      expect(logger.warn.mock.calls[0]?.[0]).toMatch(/unreachable/)
      expect(onStoreError.mock.calls.map(([, context]) => context.outcome)).toContain('fallback')
      expect(onStoreError.mock.calls.map(([, context]) => context.outcome)).toContain('denied')

      await redis.start()
      // back: the store finds Redis again by itself, and spend is enforced in Redis
      await until(
        async () => {
          try {
            return (await reserve(spendCharge)).ok
          } catch {
            return false
          }
        },
        20_000,
        'the store to recover',
      )
      expect(logger.warn).toHaveBeenCalledTimes(2)
      expect(logger.warn.mock.calls[1]?.[0]).toMatch(/answers again/)
      // a reservation made locally during the outage still settles locally
      const settled = await store.settle({ id: 'r7', actual: { costNanos: 0, tokens: 0 } })
      expect(settled.status).toBe('settled')
      expect(unhandled).toEqual([])
    } finally {
      await close()
      await redis.kill()
    }
  }, 180_000)
})
