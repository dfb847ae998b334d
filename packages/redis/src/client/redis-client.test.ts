import { Redis } from 'ioredis'
import { createClient } from 'redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { luaScript, type RedisClientLike } from './redis-client'
import { redisUrl } from './test-redis'

const ioredis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 })
const nodeRedis = createClient({ url: redisUrl })

beforeAll(async () => {
  await ioredis.connect()
  await nodeRedis.connect()
})
afterAll(async () => {
  await ioredis.quit()
  await nodeRedis.quit()
})

const clients: [string, () => RedisClientLike][] = [
  ['ioredis', () => ioredis],
  ['node-redis', () => nodeRedis],
]

describe.each(clients)('luaScript with %s', (name, client) => {
  const key = `{kg-test}:lua:${name}:${Date.now()}`
  const incr = luaScript(
    "redis.call('PEXPIRE', KEYS[1], 60000); return redis.call('INCRBY', KEYS[1], ARGV[1])",
  )

  it('loads the script with EVAL after NOSCRIPT, then runs it by its sha', async () => {
    await ioredis.script('FLUSH')
    expect(await incr.run(client(), [key], [2])).toBe(2)
    expect(await ioredis.script('EXISTS', incr.sha)).toEqual([1])
    expect(await incr.run(client(), [key], [3])).toBe(5)
    expect(await ioredis.pttl(key)).toBeGreaterThan(0)
  })

  it('surfaces script errors instead of retrying them', async () => {
    const broken = luaScript("return redis.call('NOT_A_COMMAND')")
    await expect(broken.run(client(), [key], [])).rejects.toThrow(/Unknown Redis command|unknown command/i)
  })
})
