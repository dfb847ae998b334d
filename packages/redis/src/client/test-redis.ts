import { Redis } from 'ioredis'
import { createClient } from 'redis'
import type { RedisClientLike } from './redis-client'

// Shared by the Redis tests. In CI a missing server fails the run (.ci/run starts one); tests never skip.
export const redisUrl = process.env.KEYGUARD_REDIS_URL ?? 'redis://127.0.0.1:6379'

/** A unique key prefix per test file and run, so parallel test files never share state. */
export const testPrefix = (label: string) =>
  `kgtest-${label}-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`

/** The error every Redis test fails with when there is no server: these tests never skip. */
export const unreachable = (url: string, cause: unknown) =>
  new Error(
    `Redis is not reachable at ${url} (${cause instanceof Error ? cause.message : String(cause)}). ` +
      'The Redis tests need a server: run `redis-server --daemonize yes` or set KEYGUARD_REDIS_URL.',
  )

/** One connected client of each kind; `close()` quits both. */
export async function connectClients(url = redisUrl): Promise<{
  clients: [name: 'ioredis' | 'node-redis', client: RedisClientLike][]
  ioredis: Redis
  close(): Promise<void>
}> {
  const ioredis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null })
  const nodeRedis = createClient({ url, socket: { reconnectStrategy: false } })
  nodeRedis.on('error', () => {})
  try {
    await ioredis.connect()
    await nodeRedis.connect()
  } catch (error) {
    ioredis.disconnect()
    throw unreachable(url, error)
  }
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
