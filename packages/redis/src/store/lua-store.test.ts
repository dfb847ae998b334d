import type { Charge, LimitRule } from '@keyguard/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RedisClientLike } from '../client/redis-client'
import { connectClients, testPrefix } from '../client/test-redis'
import { keyBase, luaStore } from './lua-store'

let connection: Awaited<ReturnType<typeof connectClients>>
beforeAll(async () => {
  connection = await connectClients()
})
afterAll(async () => {
  await connection.close()
})

const endsAt = Date.now() + 3_600_000
const rules: Record<string, LimitRule> = {
  rpm: { kind: 'requests', limit: 100, windowMs: 60_000 },
  tpm: { kind: 'tokens', capacity: 10_000, refillPerSecond: 100 },
  spend: {
    kind: 'spend',
    limitNanos: 9_000_000_000_000_000,
    period: { id: '2026-11', endsAt },
    softNanos: [1],
  },
  conc: { kind: 'concurrency', limit: 5 },
  credits: { kind: 'credits', lowBalanceNanos: 10 },
}
const everyKind = (scope: string): Charge[] => [
  { scope, policy: 'rpm', rule: rules.rpm as LimitRule, amount: 1 },
  { scope, policy: 'tpm', rule: rules.tpm as LimitRule, amount: 500 },
  { scope: 'global', policy: 'spend', rule: rules.spend as LimitRule, amount: 4_000_000_000_000_001 },
  { scope, policy: 'conc', rule: rules.conc as LimitRule, amount: 1 },
  { scope, policy: 'credits', rule: rules.credits as LimitRule, amount: 1_000 },
]

/** Count the client's own commands: one per store operation is the promise. */
function counting(client: RedisClientLike) {
  const calls: string[] = []
  const proxy = new Proxy(client as object, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver)
      if (typeof value !== 'function') return value
      return (...args: unknown[]) => {
        calls.push(String(property))
        return value.apply(target, args)
      }
    },
  }) as RedisClientLike
  return { proxy, calls }
}

describe.each(['ioredis', 'node-redis'])('luaStore with %s', (name) => {
  const client = () => (connection.clients.find(([kind]) => kind === name) as [string, RedisClientLike])[1]
  const make = (prefix: string, target = client()) =>
    luaStore({
      client: target,
      prefix,
      rememberMs: 600_000,
      reclaimPerReserve: 100,
      creditsTtlMs: 86_400_000,
    })

  it('runs every operation in one round trip', async () => {
    const { proxy, calls } = counting(client())
    const store = make(testPrefix('trips'), proxy)
    await store.adjust({ scope: 's', policy: 'credits', rule: rules.credits as LimitRule, delta: 5_000 })
    // the first call may find the library missing and load it; warm every operation up first
    await store.reserve({ id: 'warm', charges: everyKind('s'), leaseMs: 60_000 })
    await store.settle({ id: 'warm', actual: { costNanos: 1, tokens: 1 } })
    await store.release('warm')
    await store.peek({ scope: 's', policies: [{ policy: 'rpm', rule: rules.rpm as LimitRule }] })
    await store.reserve({ id: 'a', charges: everyKind('s'), leaseMs: 60_000 })
    calls.length = 0
    await store.reserve({ id: 'b', charges: everyKind('s'), leaseMs: 60_000 })
    await store.settle({ id: 'b', actual: { costNanos: 7, tokens: 3 } })
    await store.release('a')
    await store.peek({ scope: 's', policies: [{ policy: 'rpm', rule: rules.rpm as LimitRule }] })
    await store.adjust({ scope: 's', policy: 'tpm', rule: rules.tpm as LimitRule, delta: 5 })
    expect(calls.map((call) => call.toLowerCase())).toEqual(['fcall', 'fcall', 'fcall', 'fcall', 'fcall'])
  })

  it('keeps money exact to the nano above 2^52 and gives every key a TTL under one hash tag', async () => {
    const prefix = testPrefix('ttl')
    const store = make(prefix)
    await store.adjust({
      scope: 's',
      policy: 'credits',
      rule: rules.credits as LimitRule,
      delta: 5_000,
      expiresAt: Date.now() + 60_000,
    })
    await store.adjust({ scope: 's', policy: 'credits', rule: rules.credits as LimitRule, delta: 5_000 })
    const reserved = await store.reserve({ id: 'r1', charges: everyKind('s'), leaseMs: 60_000 })
    expect(reserved.ok).toBe(true)
    const settled = await store.settle({
      id: 'r1',
      actual: { costNanos: 4_000_000_000_000_003, tokens: 321 },
    })
    expect(settled.status).toBe('settled')
    const spend = settled.states.find((state) => state.policy === 'spend')
    expect(spend).toMatchObject({ used: 4_000_000_000_000_003, held: 0, remaining: 4_999_999_999_999_997 })
    expect(settled.events).toContainEqual(expect.objectContaining({ type: 'soft-limit', thresholdNanos: 1 }))
    await store.reserve({ id: 'r2', charges: everyKind('s').slice(0, 2), leaseMs: 60_000 })
    const refund = {
      scope: 'global',
      policy: 'spend',
      rule: rules.spend as LimitRule,
      delta: -3,
      idempotencyKey: 'refund-1',
    }
    await store.adjust(refund)
    await store.adjust(refund)

    const keys = await connection.ioredis.keys(`${keyBase(prefix)}*`)
    expect(keys.length).toBeGreaterThanOrEqual(8)
    for (const key of keys) expect(key.startsWith(`{${prefix}}:`)).toBe(true)
    const ttls = await Promise.all(keys.map((key) => connection.ioredis.pttl(key)))
    expect(keys.filter((_, i) => !((ttls[i] as number) > 0))).toEqual([])
    const [after] = await store.peek({
      scope: 'global',
      policies: [{ policy: 'spend', rule: rules.spend as LimitRule }],
    })
    expect(after?.used).toBe(4_000_000_000_000_000)
  })

  it('remembers a settled id until its lease end plus ten minutes', async () => {
    const prefix = testPrefix('remember')
    const store = make(prefix)
    const charges = [{ scope: 's', policy: 'conc', rule: rules.conc as LimitRule, amount: 1 }]
    await store.reserve({ id: 'long', charges, leaseMs: 3_600_000 })
    await store.settle({ id: 'long', actual: { costNanos: 0, tokens: 0 } })
    const ttl = await connection.ioredis.pttl(`${keyBase(prefix)}r:long`)
    expect(ttl).toBeGreaterThan(3_600_000 + 590_000)
    expect(ttl).toBeLessThanOrEqual(3_600_000 + 600_000)
  })

  it('gives a holds or log key emptied and written again a TTL, and stretches TTLs for a longer lease', async () => {
    const prefix = testPrefix('ttl')
    const store = make(prefix)
    const charge = { scope: 's', policy: 'rpm', rule: rules.rpm as LimitRule, amount: 1 }
    await store.reserve({ id: 'a', charges: [charge], leaseMs: 60_000 })
    // release empties both zsets (Redis deletes them); the next reserve writes them afresh
    await store.release('a')
    await store.reserve({ id: 'b', charges: [charge], leaseMs: 60_000 })
    const keys = await connection.ioredis.keys(`${keyBase(prefix)}*`)
    expect(keys.some((key) => key.endsWith(':holds'))).toBe(true)
    expect(keys.some((key) => key.endsWith(':log'))).toBe(true)
    const ttls = await Promise.all(keys.map((key) => connection.ioredis.pttl(key)))
    expect(keys.filter((_, i) => !((ttls[i] as number) > 0))).toEqual([])
    await store.reserve({ id: 'c', charges: [charge], leaseMs: 7_200_000 })
    const holds = keys.find((key) => key.endsWith(':holds')) as string
    expect(await connection.ioredis.pttl(holds)).toBeGreaterThan(7_200_000 + 590_000)
  })

  it('settles a reservation whose record an earlier version wrote as a hash', async () => {
    const prefix = testPrefix('legacy')
    const store = make(prefix)
    const charges = [{ scope: 's', policy: 'conc', rule: rules.conc as LimitRule, amount: 1 }]
    await store.reserve({ id: 'old', charges, leaseMs: 60_000 })
    const key = `${keyBase(prefix)}r:old`
    const value = (await connection.ioredis.get(key)) as string
    const [st, exp, lease] = value.split('|') as [string, string, string]
    const c = value.slice(st.length + exp.length + lease.length + 3)
    await connection.ioredis.del(key)
    await connection.ioredis.hset(key, { st, exp, lease, c })
    await connection.ioredis.pexpire(key, 660_000)
    const settled = await store.settle({ id: 'old', actual: { costNanos: 0, tokens: 0 } })
    expect(settled.status).toBe('settled')
    expect(settled.states[0]?.held).toBe(0)
    expect(await connection.ioredis.type(key)).toBe('string')
  })

  it('settles a reservation whose record an earlier version wrote with its charges as JSON', async () => {
    const prefix = testPrefix('legacy-json')
    const store = make(prefix)
    const rule = rules.conc as LimitRule
    await store.reserve({
      id: 'old',
      charges: [{ scope: 's', policy: 'conc', rule, amount: 1 }],
      leaseMs: 60_000,
    })
    const key = `${keyBase(prefix)}r:old`
    const [st, exp, lease, k] = ((await connection.ioredis.get(key)) as string).split('|') as string[]
    const state = `${keyBase(prefix)}${k}`
    const charges = [{ s: 's', p: 'conc', a: 1, r: rule, k: state, h: `${state}:holds`, x: `${state}:log` }]
    await connection.ioredis.set(key, `${st}|${exp}|${lease}|${JSON.stringify(charges)}`, 'PX', 660_000)
    const settled = await store.settle({ id: 'old', actual: { costNanos: 0, tokens: 0 } })
    expect(settled.status).toBe('settled')
    expect(settled.states[0]).toMatchObject({ scope: 's', policy: 'conc', held: 0 })
  })

  it('reads a credits balance an earlier version kept as grants only, dropping the expired', async () => {
    const prefix = testPrefix('legacy-credits')
    const store = make(prefix)
    const rule = rules.credits as LimitRule
    const k = `${keyBase(prefix)}m:1.t:7.credits`
    const g1 = '0000000000000001'
    const g2 = '0000000000000002'
    await connection.ioredis.hset(k, {
      seq: 2,
      [`ga:${g1}`]: 700,
      [`ge:${g1}`]: '',
      [`ga:${g2}`]: 300,
      [`ge:${g2}`]: 1,
    })
    await connection.ioredis.zadd(`${k}:log`, 1, g1, 2, g2)
    await connection.ioredis.pexpire(k, 600_000)
    await connection.ioredis.pexpire(`${k}:log`, 600_000)
    const [before] = await store.peek({ scope: 't', policies: [{ policy: 'credits', rule }] })
    expect(before).toMatchObject({ limit: 700, remaining: 700 })
    const charges = (amount: number) => [{ scope: 't', policy: 'credits', rule, amount }]
    expect((await store.reserve({ id: 'a', charges: charges(500), leaseMs: 60_000 })).ok).toBe(true)
    expect((await store.reserve({ id: 'b', charges: charges(300), leaseMs: 60_000 })).ok).toBe(false)
    const settled = await store.settle({ id: 'a', actual: { costNanos: 450, tokens: 0 } })
    expect(settled.states[0]).toMatchObject({ limit: 250, used: 450, remaining: 250 })
  })

  it('keeps a scope and policy that contain colons apart from their neighbours', async () => {
    const store = make(testPrefix('colons'))
    const rule = rules.conc as LimitRule
    await store.reserve({
      id: 'x',
      charges: [{ scope: 'a:b', policy: 'c', rule, amount: 5 }],
      leaseMs: 60_000,
    })
    const [other] = await store.peek({ scope: 'a', policies: [{ policy: 'b:c', rule }] })
    expect(other?.held).toBe(0)
  })
})

describe('keyBase', () => {
  it('wraps the prefix in a hash tag unless it already has one', () => {
    expect(keyBase('keyguard')).toBe('{keyguard}:')
    expect(keyBase('app:{kg}')).toBe('app:{kg}:')
  })
})
