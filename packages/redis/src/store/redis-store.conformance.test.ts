import { describeStoreConformance } from '@keyguard/testing/conformance'
import { Redis } from 'ioredis'
import { createClient } from 'redis'
import type { RedisClientLike } from '../client/redis-client'
import { redisUrl, testPrefix, unreachable } from '../client/test-redis'
import { redisStore } from './redis-store'

// The store runs on Redis server time, so advance() sleeps for real (the suite keeps windows short).
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

const connect: Record<string, () => Promise<{ client: RedisClientLike; quit(): Promise<unknown> }>> = {
  ioredis: async () => {
    const client = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 })
    client.on('error', () => {})
    await client.connect().catch((error: unknown) => {
      client.disconnect()
      throw unreachable(redisUrl, error)
    })
    return { client, quit: () => client.quit() }
  },
  'node-redis': async () => {
    const client = createClient({ url: redisUrl, socket: { reconnectStrategy: false } })
    client.on('error', () => {})
    await client.connect().catch((error: unknown) => {
      throw unreachable(redisUrl, error)
    })
    return { client: client as unknown as RedisClientLike, quit: () => client.quit() }
  },
}

for (const [name, open] of Object.entries(connect)) {
  describeStoreConformance(
    `redisStore with ${name}`,
    async () => {
      const { client, quit } = await open()
      // fallback 'deny': a conformance run must never pass because a local store answered
      const store = redisStore({
        client,
        prefix: testPrefix(`conf-${name}`),
        timeoutMs: 2000,
        fallback: 'deny',
      })
      return { store, advance: sleep, close: async () => void (await quit()) }
    },
    // Redis time is real: windows 10x wider, so a loaded machine's round trips fit inside them.
    { timeoutMs: 120_000, timeScale: 10 },
  )
}
