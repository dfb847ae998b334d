import { type LimitRule, spendLimit } from '@keyguard/core'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { redisUrl, testPrefix } from '../client/test-redis'
import { keyBase, luaStore } from './lua-store'

// What the store leaves in Redis: nothing for a denial, a short record for a live reservation,
// and one period for a whole fleet whatever each host's clock says.
let redis: Redis
beforeAll(() => {
  redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 })
})
afterAll(async () => {
  await redis.quit()
})

const storeFor = (prefix: string) =>
  luaStore({ client: redis, prefix, rememberMs: 600_000, reclaimPerReserve: 100, creditsTtlMs: 86_400_000 })

async function keysUnder(prefix: string): Promise<string[]> {
  const found: string[] = []
  let cursor = '0'
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${keyBase(prefix)}*`, 'COUNT', 1000)
    found.push(...keys)
    cursor = next
  } while (cursor !== '0')
  return found
}

const endsAt = Date.now() + 3_600_000
const rules = {
  rpm: { kind: 'requests', limit: 1_000, windowMs: 60_000 },
  tpm: { kind: 'tokens', capacity: 1e9, refillPerSecond: 1e6 },
  spend: { kind: 'spend', limitNanos: 9e15, period: { id: '2026-12', endsAt }, softNanos: [] },
  none: { kind: 'requests', limit: 0, windowMs: 60_000 },
  busy: { kind: 'concurrency', limit: 0 },
  broke: { kind: 'spend', limitNanos: 0, period: { id: '2026-12', endsAt }, softNanos: [] },
} satisfies Record<string, LimitRule>

describe('the Redis footprint', () => {
  it('writes nothing for 1,000 denied reserves, each on a new state', async () => {
    const prefix = testPrefix('deny')
    const store = storeFor(prefix)
    for (let i = 0; i < 1000; i++) {
      const denied = [rules.none, rules.busy, rules.broke][i % 3] as LimitRule
      const result = await store.reserve({
        id: `d${i}`,
        // the first charge fits (its state is new too), the second does not
        charges: [
          { scope: `user:u${i}`, policy: 'rpm', rule: rules.rpm, amount: 1 },
          { scope: `tenant:t${i}`, policy: 'denied', rule: denied, amount: 1 },
        ],
        leaseMs: 60_000,
      })
      expect(result.ok).toBe(false)
    }
    expect(await keysUnder(prefix)).toEqual([])
  })

  it('keeps a live reservation of a typical request in at most 256 bytes', async () => {
    const prefix = testPrefix('bytes')
    const store = storeFor(prefix)
    const id = crypto.randomUUID()
    const reserved = await store.reserve({
      id,
      charges: [
        { scope: 'user:u-1234', policy: 'rpm', rule: rules.rpm, amount: 1 },
        { scope: 'tenant:acme', policy: 'tpm', rule: rules.tpm, amount: 1200 },
        { scope: 'tenant:acme', policy: 'monthly-spend', rule: rules.spend, amount: 45_000 },
      ],
      leaseMs: 30_000,
    })
    expect(reserved.ok).toBe(true)
    const bytes = Number(await redis.call('MEMORY', 'USAGE', `${keyBase(prefix)}r:${id}`))
    expect(bytes).toBeGreaterThan(0)
    expect(bytes).toBeLessThanOrEqual(256)
    // and settle still finds every state from the short record
    const settled = await store.settle({ id, actual: { costNanos: 31_234, tokens: 900 } })
    expect(settled.states.map((s) => [s.policy, s.held])).toEqual([
      ['rpm', 0],
      ['tpm', 0],
      ['monthly-spend', 0],
    ])
    expect(settled.states[2]?.used).toBe(31_234)
  })

  it("counts a spend period by Redis's clock, not the host's: a host 30 days ahead charges the same month", async () => {
    const prefix = testPrefix('clock')
    const store = storeFor(prefix)
    const policy = spendLimit({ scope: 'tenant', limit: 10 * 1000, period: 'month' })
    const skewed = await policy.ruleFor('t1', Date.now() + 30 * 86_400_000)
    const honest = await policy.ruleFor('t1', Date.now())
    let admitted = 0
    for (let i = 0; i < 20; i++) {
      const rule = i % 2 === 0 ? skewed : honest
      const result = await store.reserve({
        id: `c${i}`,
        charges: [{ scope: 'tenant:t1', policy: 'spend', rule, amount: 1000 }],
        leaseMs: 60_000,
      })
      if (result.ok) admitted++
    }
    expect(admitted).toBe(10)
  })
})
