import type { Charge, LimitRule } from '@keyguard/core'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { IoredisLike } from '../client/redis-client'
import { redisUrl, testPrefix, unreachable } from '../client/test-redis'
import { luaStore } from './lua-store'
import { redisStore } from './redis-store'
import { shardBase } from './shard-keys'

// The sharded path on one Redis (shardBy given): what it sends, and that a client without it keeps
// one script per operation and one hash tag. The Cluster itself: redis-store.cluster.test.ts.

let redis: Redis
beforeAll(async () => {
  redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 })
  await redis.connect().catch((error: unknown) => {
    throw unreachable(redisUrl, error)
  })
})
afterAll(async () => {
  await redis.quit()
})

/**
 * The real client, counting the scripts it runs (EVALSHA, EVAL or FCALL that Redis ran: a NOSCRIPT or
 * a `Function not found`, answered by loading the script or library, is not a run).
 */
const counting = () => {
  const calls = { scripts: 0 }
  const counted = async (reply: Promise<unknown>) => {
    const value = await reply
    calls.scripts++
    return value
  }
  const client = {
    evalsha: (...args: Parameters<Redis['evalsha']>) => counted(redis.evalsha(...args)),
    eval: (...args: Parameters<Redis['eval']>) => counted(redis.eval(...args)),
    fcall: (...args: Parameters<Redis['fcall']>) => counted(redis.fcall(...args)),
    call: (...args: Parameters<Redis['call']>) => redis.call(...args),
  } as IoredisLike
  return { client, calls }
}

const spend: LimitRule = {
  kind: 'spend',
  limitNanos: 1000,
  period: { id: 'p', endsAt: Date.UTC(2099, 0, 1) },
  softNanos: [],
}
const charges: Charge[] = [
  { scope: 'user:u1', policy: 'rpm', rule: { kind: 'requests', limit: 10, windowMs: 60_000 }, amount: 1 },
  { scope: 'tenant:t1', policy: 'spend', rule: spend, amount: 100 },
  { scope: 'global', policy: 'spend', rule: spend, amount: 100 },
]

describe('redisStore shards', () => {
  it('keeps one script per operation and one hash tag on a client that is not a Cluster', async () => {
    const { client, calls } = counting()
    const prefix = testPrefix('one-slot')
    const store = redisStore({ client, prefix, fallback: 'deny', timeoutMs: 5000 })
    await store.reserve({ id: 'r1', charges, leaseMs: 60_000 })
    await store.settle({ id: 'r1', actual: { costNanos: 50, tokens: 0 } })
    expect(calls.scripts).toBe(2)
    const keys = await redis.keys(`*${prefix}*`)
    expect(keys.length).toBeGreaterThan(0)
    expect(keys.every((key) => key.startsWith(`{${prefix}}:`))).toBe(true)
  })

  it('runs one script per shard, in charge order for the caller, with shardBy', async () => {
    const { client, calls } = counting()
    const prefix = testPrefix('shards')
    const shardBy = (scope: string) => (scope === 'user:u1' ? 'tenant:t1' : undefined)
    const store = redisStore({ client, prefix, fallback: 'deny', timeoutMs: 5000, shardBy })
    const reserved = await store.reserve({ id: 'r1', charges, leaseMs: 60_000 })
    expect(reserved.ok && reserved.states.map((state) => state.scope)).toEqual([
      'user:u1',
      'tenant:t1',
      'global',
    ])
    // the user joins its tenant's shard: two shards, two scripts to reserve and two to settle
    expect(calls.scripts).toBe(2)
    const settled = await store.settle({ id: 'r1', actual: { costNanos: 50, tokens: 0 } })
    expect(settled.states.map((state) => [state.scope, state.used])).toEqual([
      ['user:u1', 1],
      ['tenant:t1', 50],
      ['global', 50],
    ])
    expect(calls.scripts).toBe(4)
    const keys = await redis.keys(`*${prefix}*`)
    expect(new Set(keys.map((key) => key.slice(0, key.indexOf('}') + 1)))).toEqual(
      new Set([`{${prefix}}`, `{${prefix}|9.tenant:t1}`]),
    )
    expect((await store.release('r1')).status).toBe('settled')
  })

  it('answers a denial on a later shard after cancelling what the earlier shards held', async () => {
    const prefix = testPrefix('deny')
    const store = redisStore({
      client: redis,
      prefix,
      fallback: 'deny',
      timeoutMs: 5000,
      shardBy: () => undefined,
    })
    const tight: LimitRule = { ...spend, limitNanos: 150 }
    const over: Charge[] = [
      { scope: 'tenant:t1', policy: 'spend', rule: spend, amount: 100 },
      { scope: 'global', policy: 'tight', rule: tight, amount: 100 },
    ]
    expect((await store.reserve({ id: 'a', charges: over, leaseMs: 60_000 })).ok).toBe(true)
    const denied = await store.reserve({ id: 'b', charges: over, leaseMs: 60_000 })
    expect(!denied.ok && denied.denial).toMatchObject({ scope: 'global', policy: 'tight', remaining: 50 })
    const [tenant] = await store.peek({ scope: 'tenant:t1', policies: [{ policy: 'spend', rule: spend }] })
    expect(tenant).toMatchObject({ held: 100, remaining: 900 })
  })

  it('holds nothing on an earlier shard for a reservation a later shard refuses as invalid', async () => {
    const store = redisStore({
      client: redis,
      prefix: testPrefix('invalid'),
      fallback: 'deny',
      // the first call loads the Functions library: a busy machine's round trips, not the 250 ms default
      timeoutMs: 5000,
      shardBy: () => undefined,
    })
    const bad: Charge[] = [
      { scope: 'tenant:t1', policy: 'spend', rule: spend, amount: 100 },
      { scope: 'global', policy: 'spend', rule: spend, amount: -1 },
    ]
    await expect(store.reserve({ id: 'bad', charges: bad, leaseMs: 60_000 })).rejects.toBeInstanceOf(
      RangeError,
    )
    const [tenant] = await store.peek({ scope: 'tenant:t1', policies: [{ policy: 'spend', rule: spend }] })
    expect(tenant).toMatchObject({ held: 0, remaining: 1000 })
  })

  it('settles once per shard: a settle retried after it reached only some shards charges each once', async () => {
    const prefix = testPrefix('partial')
    const store = redisStore({
      client: redis,
      prefix,
      fallback: 'deny',
      timeoutMs: 5000,
      shardBy: () => undefined,
    })
    const across: Charge[] = [
      { scope: 'tenant:t1', policy: 'spend', rule: spend, amount: 100 },
      { scope: 'global', policy: 'spend', rule: spend, amount: 100 },
    ]
    expect((await store.reserve({ id: 'p', charges: across, leaseMs: 60_000 })).ok).toBe(true)
    // the first settle reached the tenant's shard only
    const tenantShard = luaStore({
      client: redis,
      prefix,
      base: shardBase(prefix, 'tenant:t1'),
      rememberMs: 600_000,
      reclaimPerReserve: 100,
      creditsTtlMs: 86_400_000,
    })
    expect((await tenantShard.settle({ id: 'p', actual: { costNanos: 40, tokens: 0 } })).status).toBe(
      'settled',
    )
    const retried = await store.settle({ id: 'p', actual: { costNanos: 40, tokens: 0 } })
    expect(retried.status).toBe('settled')
    expect(retried.states.map((state) => [state.scope, state.used, state.held])).toEqual([
      ['tenant:t1', 40, 0],
      ['global', 40, 0],
    ])
    expect((await store.settle({ id: 'p', actual: { costNanos: 40, tokens: 0 } })).status).toBe(
      'already-settled',
    )
  })
})
