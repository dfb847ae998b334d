import type { Charge, LimitRule } from '@keyguard/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RedisClientLike } from '../client/redis-client'
import { connectClients, testPrefix } from '../client/test-redis'
import { luaStore, StaleReserveError } from './lua-store'
import { redisClock, retryQueue } from './replay-guard'

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
const charges: Charge[] = [{ scope: 't', policy: 'spend', rule: spend, amount: 500 }]
const policies = [{ policy: 'spend', rule: spend }]

describe('cancel (luaStore)', () => {
  const make = (clock?: Parameters<typeof luaStore>[0]['clock']) =>
    luaStore({
      client: connection.clients[0]?.[1] as RedisClientLike,
      prefix: testPrefix('cancel'),
      rememberMs: 60_000,
      reclaimPerReserve: 100,
      creditsTtlMs: 86_400_000,
      clock,
    })

  it('releases a live hold so that nothing is charged, even past its lease', async () => {
    const store = make()
    await store.reserve({ id: 'a', charges, leaseMs: 1 })
    await new Promise((resolve) => setTimeout(resolve, 5))
    expect(await store.cancel('a')).toBe('released')
    const [state] = await store.peek({ scope: 't', policies })
    expect({ used: state?.used, held: state?.held }).toEqual({ used: 0, held: 0 })
    expect((await store.settle({ id: 'a', actual: { costNanos: 9, tokens: 0 } })).status).toBe('released')
    expect((await store.release('a')).status).toBe('already-released')
  })

  it('leaves a tombstone that turns a later reserve of the id into a no-op', async () => {
    const store = make()
    expect(await store.cancel('b')).toBe('tombstone')
    await expect(store.reserve({ id: 'b', charges, leaseMs: 60_000 })).rejects.toBeInstanceOf(
      StaleReserveError,
    )
    const [state] = await store.peek({ scope: 't', policies })
    expect(state?.held).toBe(0)
  })

  it('makes a reserve that arrives after its deadline write nothing', async () => {
    const store = make({ deadline: () => 1, observe() {}, now: () => undefined })
    await expect(store.reserve({ id: 'c', charges, leaseMs: 60_000 })).rejects.toBeInstanceOf(
      StaleReserveError,
    )
    const [state] = await store.peek({ scope: 't', policies })
    expect(state?.held).toBe(0)
  })
  it('releases each of a burst of cancels that arrive after their leases ended, none charged by another', async () => {
    // After an outage longer than the lease, the cancels of reserves that ran (their replies lost)
    // reach Redis one behind the other: the first must not reclaim the next one's hold as spent.
    const store = make()
    const burst: Charge[] = [{ scope: 'burst', policy: 'spend', rule: spend, amount: 500 }]
    // a lease the three reserves fit in (so none reclaims another), then wait it out
    for (const id of ['d1', 'd2', 'd3']) await store.reserve({ id, charges: burst, leaseMs: 3000 })
    await new Promise((resolve) => setTimeout(resolve, 3100))
    const answers = [await store.cancel('d1'), await store.cancel('d2'), await store.cancel('d3')]
    expect(answers).toEqual(['released', 'released', 'released'])
    const [state] = await store.peek({ scope: 'burst', policies })
    expect({ used: state?.used, held: state?.held }).toEqual({ used: 0, held: 0 })
  })
})

describe('redisClock', () => {
  it('never sets a deadline before the budget has passed in Redis time, whatever the skew', () => {
    const clock = redisClock(200)
    expect(clock.deadline(0)).toBeUndefined()
    // Redis is 1 h ahead; the first reply took 30 ms, the second 2 ms
    clock.observe(1000, 3_600_000 + 1030)
    clock.observe(2000, 3_600_000 + 2002)
    expect(clock.deadline(5000)).toBe(3_600_000 + 5002 + 200)
  })
})

describe('retryQueue', () => {
  it('retries a cancel until Redis takes it, one in flight at a time', async () => {
    let calls = 0
    const queue = retryQueue({
      send: async () => {
        calls++
        if (calls < 3) throw new Error('down')
      },
      onGiveUp() {},
      giveUpMs: 60_000,
      retryMs: 5,
    })
    queue.add('x')
    queue.add('x')
    for (let i = 0; i < 100 && queue.size > 0; i++) await new Promise((resolve) => setTimeout(resolve, 5))
    expect({ calls, size: queue.size }).toEqual({ calls: 3, size: 0 })
  })
})
