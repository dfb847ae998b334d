import { redisStore } from '@keyguard/redis'
import { Redis } from 'ioredis'
import type pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
// the redis package's fixture, used read-only: a redis-server of this test's own, on a spare port
import { type OwnRedis, ownRedis } from '../../../redis/src/store/__fixtures__/redis-server'
import { migratedSchema } from '../client/migrated-schema'
import { postgresLedger } from '../ledger/postgres-ledger'
import { rebuildAndAdmit, spendAndRecord } from './__fixtures__/rebuild-scenario'

let pool: pg.Pool
const schema = migratedSchema('rebuild_redis', (opened) => {
  pool = opened
})
let redis: OwnRedis | undefined
const clients: Redis[] = []
const connect = (port: number) => {
  const client = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 1 })
  client.on('error', () => {})
  clients.push(client)
  return client
}
afterAll(async () => {
  for (const client of clients) client.disconnect()
  await redis?.kill()
})

describe('rebuildStore on Redis', () => {
  it('brings a Redis without persistence back to where it was after kill -9, so exactly K more are admitted', async () => {
    redis = await ownRedis(['--save', '', '--appendonly', 'no'])
    const ledger = postgresLedger({ pool, schema })
    // the store warns that this Redis forgets: the loss the ledger is there for
    const warnings: string[] = []
    const logger = { warn: (message: string) => warnings.push(message), error: () => {} }
    // not a test of timeouts: the default 250 ms missed a fresh server's first calls at load 25
    const timeoutMs = 30_000
    const before = await spendAndRecord(
      redisStore({ client: connect(redis.port), logger, timeoutMs }),
      ledger,
      'redis',
    )
    expect(warnings.join('\n')).toContain('appendonly no')

    await redis.kill()
    await redis.start()
    const client = connect(redis.port)
    expect(await client.dbsize()).toBe(0) // everything the store counted is gone

    await rebuildAndAdmit(redisStore({ client, logger, timeoutMs }), ledger, before)
  }, 60_000)
})
