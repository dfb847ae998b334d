import type { Charge, LimitRule } from '@keyguard/core'
import { Redis } from 'ioredis'
import { createClient } from 'redis'
import { describe, expect, it, vi } from 'vitest'
import type { RedisClientLike } from '../client/redis-client'
import { testPrefix } from '../client/test-redis'
import { ownRedis } from './__fixtures__/redis-server'
import { redisStore } from './redis-store'

// Each case runs its own redis-server configured the way it needs; 6379's config is never touched.

const spend: LimitRule = {
  kind: 'spend',
  limitNanos: 1_000_000,
  period: { id: 'p', endsAt: Date.now() + 3_600_000 },
  softNanos: [],
}
const charges: Charge[] = [{ scope: 'tenant:a', policy: 'spend', rule: spend, amount: 10 }]

const connect = {
  ioredis: async (port: number) => {
    const client = new Redis(port, '127.0.0.1')
    client.on('error', () => {})
    return { client: client as RedisClientLike, close: () => client.disconnect() }
  },
  'node-redis': async (port: number) => {
    const client = createClient({ url: `redis://127.0.0.1:${port}` })
    client.on('error', () => {})
    await client.connect()
    return { client: client as unknown as RedisClientLike, close: () => client.destroy() }
  },
}

const servers: [label: string, args: string[], warning: RegExp | undefined][] = [
  [
    'without persistence',
    ['--save', '', '--appendonly', 'no'],
    /appendonly no: a restart .*use appendonly yes/,
  ],
  ['with RDB snapshots only', ['--save', '1 1', '--appendonly', 'no'], /appendonly no/],
  [
    'with appendfsync no',
    ['--appendonly', 'yes', '--appendfsync', 'no'],
    /appendfsync no: .*use appendfsync everysec/,
  ],
  [
    'with an evicting policy',
    ['--appendonly', 'yes', '--maxmemory-policy', 'allkeys-lru'],
    /maxmemory-policy allkeys-lru: .*evicts.*use maxmemory-policy noeviction/,
  ],
  [
    'with an evicting policy and CONFIG disabled (managed Redis)',
    ['--appendonly', 'yes', '--maxmemory-policy', 'volatile-lru', '--rename-command', 'CONFIG', '""'],
    /maxmemory-policy volatile-lru/,
  ],
  ['with AOF everysec and noeviction', ['--appendonly', 'yes', '--appendfsync', 'everysec'], undefined],
]

const settle = () => new Promise((resolve) => setTimeout(resolve, 200))

describe('redisStore', () => {
  it.each(servers)(
    'checks the server %s at first contact: one warning with the fix for what loses money',
    async (_, args, warning) => {
      const redis = await ownRedis(args)
      try {
        for (const [name, make] of Object.entries(connect)) {
          const { client, close } = await make(redis.port)
          const logger = { warn: vi.fn(), error: vi.fn() }
          try {
            const store = redisStore({
              client,
              prefix: testPrefix(`check-${name}`),
              logger,
              timeoutMs: 5_000,
            })
            for (let i = 0; i < 3; i++) await store.reserve({ id: `r${i}`, charges, leaseMs: 60_000 })
            await settle()
            if (warning) {
              expect(logger.warn, name).toHaveBeenCalledTimes(1)
              expect(logger.warn.mock.calls[0]?.[0], name).toMatch(warning)
            } else {
              expect(logger.warn, name).not.toHaveBeenCalled()
            }
          } finally {
            close()
          }
        }
      } finally {
        await redis.kill()
      }
    },
    30_000,
  )

  it('refuses every call with store.misconfigured under strict, and writes nothing', async () => {
    const redis = await ownRedis(['--save', '', '--appendonly', 'no'])
    const { client, close } = await connect.ioredis(redis.port)
    try {
      const logger = { warn: vi.fn(), error: vi.fn() }
      const store = redisStore({
        client,
        prefix: testPrefix('strict'),
        logger,
        strict: true,
        timeoutMs: 5_000,
      })
      await expect(store.reserve({ id: 'a', charges, leaseMs: 60_000 })).rejects.toMatchObject({
        code: 'store.misconfigured',
        clientStatus: 503,
        operatorHint: expect.stringMatching(/appendonly yes/),
      })
      expect(await (client as Redis).dbsize()).toBe(0)
    } finally {
      close()
      await redis.kill()
    }
  }, 30_000)
})
