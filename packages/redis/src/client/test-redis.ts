import { Redis } from 'ioredis'
import { createClient } from 'redis'
import type { RedisClientLike } from './redis-client'

// Shared by the Redis tests. In CI a missing server fails the run (.ci/run starts one); tests never skip.
export const redisUrl = process.env.KEYGUARD_REDIS_URL ?? 'redis://127.0.0.1:6379'

/** A unique key prefix per test file and run, so parallel test files never share state. */
export const testPrefix = (label: string) =>
  `kgtest-${label}-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`

/** One connected client of each kind; `close()` quits both. */
export async function connectClients(url = redisUrl): Promise<{
  clients: [name: 'ioredis' | 'node-redis', client: RedisClientLike][]
  ioredis: Redis
  close(): Promise<void>
}> {
  const ioredis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 })
  const nodeRedis = createClient({ url })
  await ioredis.connect()
  await nodeRedis.connect()
  return {
    clients: [
      ['ioredis', ioredis],
      ['node-redis', nodeRedis as unknown as RedisClientLike],
    ],
    ioredis,
    async close() {
      await ioredis.quit()
      await nodeRedis.quit()
    },
  }
}
