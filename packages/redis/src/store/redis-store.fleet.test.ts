import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { redisUrl, testPrefix } from '../client/test-redis'
import { runFleet } from './__fixtures__/run-fleet'
import { keyBase } from './lua-store'

// 4 app instances (separate Node processes, two per client library) share one Redis and fire 250
// reservations each, all at once, against one spend limit that fits exactly K of them.
const WORKERS = 4
const PER_WORKER = 250
const K = 137
// Above 1e14 on purpose: no amount may reach Redis in exponent notation.
const AMOUNT = 12_345_678_901_234
const LIMIT = K * AMOUNT + (AMOUNT - 1)

let redis: Redis

beforeAll(() => {
  redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 })
})
afterAll(async () => {
  await redis.quit()
})

describe('redisStore across a fleet', () => {
  it('admits exactly as many reservations as the spend limit fits, and settles to the nano', async () => {
    const prefix = testPrefix('fleet')
    const reports = await runFleet(WORKERS, {
      REDIS_URL: redisUrl,
      PREFIX: prefix,
      COUNT: String(PER_WORKER),
      AMOUNT: String(AMOUNT),
      LIMIT: String(LIMIT),
      ENDS_AT: String(Date.now() + 3_600_000),
    })

    const admitted = reports.reduce((sum, report) => sum + report.admitted, 0)
    const settled = reports.reduce((sum, report) => sum + report.settledNanos, 0)
    expect(admitted).toBe(K)
    expect(reports.reduce((sum, report) => sum + report.denied, 0)).toBe(WORKERS * PER_WORKER - K)

    const keys: string[] = []
    for await (const batch of redis.scanStream({ match: `${keyBase(prefix)}*`, count: 1000 }))
      keys.push(...batch)
    const stateKey = keys.find((key) => /:s:.*fleet$/.test(key) && !key.endsWith(':holds'))
    expect(stateKey).toBeDefined()
    const [spent, held] = await redis.hmget(stateKey as string, 'spent', 'held')
    expect(Number(spent)).toBe(settled)
    expect(spent).toBe(String(settled))
    expect(Number(held)).toBe(0)
    expect(await redis.zcard(`${stateKey}:holds`)).toBe(0)

    expect(keys.length).toBeGreaterThan(K)
    const ttls = await Promise.all(keys.map((key) => redis.pttl(key)))
    const withoutTtl = keys.filter((_, i) => !((ttls[i] as number) > 0))
    expect(withoutTtl).toEqual([])
  }, 180_000)
})
