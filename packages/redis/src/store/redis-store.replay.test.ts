import type { Charge, KeyguardStore, LimitRule } from '@keyguard/core'
import { Redis } from 'ioredis'
import { createClient } from 'redis'
import { describe, expect, it } from 'vitest'
import type { RedisClientLike } from '../client/redis-client'
import { testPrefix } from '../client/test-redis'
import { type OwnRedis, ownRedis, until } from './__fixtures__/redis-server'
import { redisStore } from './redis-store'

// A call keyguard answered as refused (its reserve failed or timed out) is never charged, whatever the
// client replays once Redis answers again. Clients with their default settings: ioredis resends
// in-flight commands and its offline queue, node-redis queues commands while disconnected.

const HOLD = 1000
const COST = 600
const LEASE = 4000
const spend: LimitRule = {
  kind: 'spend',
  limitNanos: 1_000_000_000,
  period: { id: 'p', endsAt: Date.now() + 3_600_000 },
  softNanos: [],
}
const charges: Charge[] = [{ scope: 'tenant:r', policy: 'spend', rule: spend, amount: HOLD }]

const clients: Record<string, (port: number) => Promise<{ client: RedisClientLike; close(): void }>> = {
  ioredis: async (port) => {
    const client = new Redis(port, '127.0.0.1')
    client.on('error', () => {})
    return { client, close: () => client.disconnect() }
  },
  'node-redis': async (port) => {
    const client = createClient({ url: `redis://127.0.0.1:${port}` })
    client.on('error', () => {})
    await client.connect()
    return { client: client as unknown as RedisClientLike, close: () => client.destroy() }
  },
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Settle at COST until Redis answers (as a ledger-backed app would); returns what the call is charged. */
async function settled(store: KeyguardStore, id: string) {
  for (;;) {
    try {
      const { status } = await store.settle({ id, actual: { costNanos: COST, tokens: 0 } })
      return status === 'expired' ? HOLD : COST
    } catch {
      await sleep(50)
    }
  }
}

/**
 * Callers in a loop from before the fault until `afterMs` after it: reserve, and settle each admitted
 * call once the burst is over (so callers keep reserving through the fault). Returns what the
 * admitted calls must be charged.
 */
async function burst(store: KeyguardStore, afterMs: number, fault: () => Promise<void>) {
  const admitted: string[] = []
  let refused = 0
  let n = 0
  let running = true
  const caller = async () => {
    while (running) {
      const id = `c${n++}`
      let ok = false
      try {
        ok = (await store.reserve({ id, charges, leaseMs: LEASE })).ok
      } catch {
        refused++
        await sleep(20)
        continue
      }
      if (!ok) throw new Error('the budget is large enough for every call')
      admitted.push(id)
    }
  }
  const callers = Array.from({ length: 8 }, caller)
  await until(async () => admitted.length > 0, 30_000, 'a first call to be admitted')
  await fault()
  await sleep(afterMs)
  running = false
  await Promise.all(callers)
  let expected = 0
  for (const id of admitted) expected += await settled(store, id)
  return { expected, admitted: admitted.length, refused }
}

const faults: Record<string, (redis: OwnRedis) => Promise<void>> = {
  'SIGSTOP for 2 s': async (redis) => {
    redis.pause()
    await sleep(2000)
    redis.resume()
  },
  'kill -9 and restart': async (redis) => {
    await redis.kill()
    await sleep(1000)
    await redis.start()
  },
}

/** A durable redis-server of the test's own (AOF, fsync always), a client with default settings, a store. */
async function setup(name: string, label: string) {
  const redis = await ownRedis(['--save', '', '--appendonly', 'yes', '--appendfsync', 'always'])
  const { client, close } = await (clients[name] as (typeof clients)['ioredis'])(redis.port)
  const store = redisStore({
    client,
    prefix: testPrefix(`${label}-${name}`),
    // long enough for a loaded machine's round trips; the faults below outlast it, so calls are refused
    timeoutMs: 1_000,
    logger: { warn() {}, error() {} },
  })
  // A fresh server (fsync always) beside the other cases may miss the 1 s timeout of the first calls on
  // a busy machine: every case starts once the store answers.
  const answers = () =>
    Promise.resolve(store.peek({ scope: 'tenant:warm', policies: [{ policy: 'spend', rule: spend }] })).then(
      () => true,
      () => false,
    )
  await until(answers, 60_000, 'the store to answer')
  return { redis, store, close }
}

describe('redisStore', () => {
  describe.each(Object.keys(clients))('with %s and its default settings', (name) => {
    it.each(Object.keys(faults))(
      'never charges a refused call after %s',
      async (fault) => {
        const { redis, store, close } = await setup(name, 'replay')
        try {
          const { expected, admitted, refused } = await burst(store, 1500, () =>
            (faults[fault] as (redis: OwnRedis) => Promise<void>)(redis),
          )
          expect(admitted).toBeGreaterThan(0)
          expect(refused).toBeGreaterThan(0)
          // every replayed reserve has run and every lease has ended: what is held now was charged
          await sleep(LEASE + 500)
          const [state] = await store.peek({
            scope: 'tenant:r',
            policies: [{ policy: 'spend', rule: spend }],
          })
          expect({ spent: state?.used, held: state?.held }).toEqual({ spent: expected, held: 0 })
        } finally {
          close()
          await redis.kill()
        }
      },
      60_000,
    )

    it('charges a settle Redis lost in flight at its actual cost once Redis is back, not the whole hold', async () => {
      const { redis, store, close } = await setup(name, 'resettle')
      try {
        expect((await store.reserve({ id: 's', charges, leaseMs: 15_000 })).ok).toBe(true)
        // the settle is in the paused server's socket when the server dies
        redis.pause()
        await expect(store.settle({ id: 's', actual: { costNanos: COST, tokens: 0 } })).rejects.toMatchObject(
          {
            code: 'store.unavailable',
          },
        )
        await redis.kill()
        await redis.start()
        const spent = async () => {
          try {
            return (await store.peek({ scope: 'tenant:r', policies: [{ policy: 'spend', rule: spend }] }))[0]
          } catch {
            return undefined
          }
        }
        await until(async () => (await spent())?.held === 0, 20_000, 'the settle to land')
        expect((await spent())?.used).toBe(COST)
      } finally {
        close()
        await redis.kill()
      }
    }, 60_000)
  })
})
