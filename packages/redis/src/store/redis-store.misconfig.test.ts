import type { Charge, LimitRule } from '@keyguard/core'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { RedisClientLike } from '../client/redis-client'
import { connectClients, testPrefix } from '../client/test-redis'
import { ownRedis } from './__fixtures__/redis-server'
import { keyBase } from './lua-store'
import { redisStore } from './redis-store'

// A misconfigured store is reported as misconfigured, never as an outage, and never opens a breaker
// for other tenants (DESIGN.md).

let connection: Awaited<ReturnType<typeof connectClients>>
beforeAll(async () => {
  connection = await connectClients()
})
afterAll(async () => {
  await connection.close()
})

const spend: LimitRule = {
  kind: 'spend',
  limitNanos: 1_000_000,
  period: { id: 'p', endsAt: Date.now() + 3_600_000 },
  softNanos: [],
}
const charge = (scope: string): Charge[] => [{ scope, policy: 'spend', rule: spend, amount: 10 }]
const quiet = () => ({ warn: vi.fn(), error: vi.fn() })

describe('redisStore', () => {
  it.each(['x{}{kg}', 'x{kg', 'x}kg'])(
    'refuses the prefix %s at construction with config.invalid naming the fix',
    (prefix) => {
      expect(() => redisStore({ client: connection.ioredis, prefix })).toThrow(
        expect.objectContaining({
          code: 'config.invalid',
          problems: [
            expect.objectContaining({ path: 'prefix', message: expect.stringMatching(/hash tag.*`/) }),
          ],
        }),
      )
    },
  )

  describe.each(['ioredis', 'node-redis'])('with %s', (name) => {
    const client = () => (connection.clients.find(([kind]) => kind === name) as [string, RedisClientLike])[1]

    it('refuses a lone-surrogate scope with scope.invalid for that request only, breaker closed', async () => {
      const onStoreError = vi.fn()
      const store = redisStore({
        client: client(),
        prefix: testPrefix('surrogate'),
        logger: quiet(),
        timeoutMs: 5_000,
        onStoreError,
      })
      for (let i = 0; i < 5; i++) {
        await expect(
          store.reserve({ id: `bad${i}`, charges: charge('x\ud800'), leaseMs: 60_000 }),
        ).rejects.toMatchObject({
          code: 'scope.invalid',
          clientStatus: 400,
        })
      }
      await expect(
        store.reserve({ id: 'long', charges: charge('x'.repeat(5000)), leaseMs: 60_000 }),
      ).rejects.toMatchObject({
        code: 'scope.invalid',
      })
      expect((await store.reserve({ id: 'good', charges: charge('tenant:ok'), leaseMs: 60_000 })).ok).toBe(
        true,
      )
      expect(onStoreError).not.toHaveBeenCalled()
    })

    it('reports WRONGTYPE as store.misconfigured by name, and other tenants keep Redis', async () => {
      const prefix = testPrefix('wrongtype')
      const logger = quiet()
      const store = redisStore({ client: client(), prefix, logger, timeoutMs: 5_000 })
      // something else wrote a string where keyguard keeps tenant:w's spend hash
      await connection.ioredis.set(`${keyBase(prefix)}s:8.tenant:w:5.spend:1.p`, 'not keyguard', 'EX', 60)
      for (let i = 0; i < 5; i++) {
        await expect(
          store.reserve({ id: `w${i}`, charges: charge('tenant:w'), leaseMs: 60_000 }),
        ).rejects.toMatchObject({
          code: 'store.misconfigured',
          clientStatus: 503,
          retryable: false,
          message: expect.stringMatching(/WRONGTYPE/),
          operatorHint: expect.stringMatching(/prefix of its own/),
        })
      }
      expect((await store.reserve({ id: 'ok', charges: charge('tenant:ok'), leaseMs: 60_000 })).ok).toBe(true)
      // (6379 may run without AOF: that warning is allowed, an outage warning is not)
      expect(logger.warn.mock.calls.flat().join(' ')).not.toMatch(/unreachable/)
      expect(logger.error).toHaveBeenCalledTimes(1)
      expect(logger.error.mock.calls[0]?.[0]).toMatch(/WRONGTYPE/)
    })
  })

  it('reports a full Redis under noeviction as out of memory, not unreachable', async () => {
    const redis = await ownRedis(['--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction'])
    const client = new Redis(redis.port, '127.0.0.1')
    client.on('error', () => {})
    try {
      const logger = quiet()
      const store = redisStore({ client, prefix: testPrefix('oom'), logger, timeoutMs: 5_000 })
      expect((await store.reserve({ id: 'before', charges: charge('tenant:a'), leaseMs: 60_000 })).ok).toBe(
        true,
      )
      // Filling up to maxmemory leaves Redis hovering at the line (a freed query buffer can let the next
      // write through). Fill ~4 MB first, then put the line far below: every write is refused from then on.
      const filler = 'x'.repeat(1024)
      const fill = client.pipeline()
      for (let i = 0; i < 4_000; i++) fill.set(`filler:${i}`, filler)
      await fill.exec()
      await client.config('SET', 'maxmemory', '1mb')
      await expect(client.set('one-more', 'x')).rejects.toThrow(/OOM/)
      for (let i = 0; i < 5; i++) {
        await expect(
          store.reserve({ id: `full${i}`, charges: charge('tenant:a'), leaseMs: 60_000 }),
        ).rejects.toMatchObject({
          code: 'store.misconfigured',
          message: expect.stringMatching(/OOM: Redis is out of memory/),
          operatorHint: expect.stringMatching(/maxmemory/),
        })
      }
      expect(logger.warn.mock.calls.flat().join(' ')).not.toMatch(/unreachable/)
    } finally {
      client.disconnect()
      await redis.kill()
    }
  }, 30_000)
})
