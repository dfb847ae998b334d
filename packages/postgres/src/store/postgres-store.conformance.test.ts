import { describeStoreConformance } from '@keyguard/testing/conformance'
import type pg from 'pg'
import { afterAll, beforeAll } from 'vitest'
import { dropSchema, testPool, testSchema } from '../client/test-postgres'
import { migrate } from '../migrations/migrate'
import { postgresStore } from './postgres-store'

// The store runs on the database's clock, so advance() sleeps for real (the suite keeps windows short).
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

let pool: pg.Pool
const schema = testSchema('conformance')
beforeAll(async () => {
  pool = await testPool()
  await migrate({ pool, schema })
})
afterAll(async () => {
  await dropSchema(pool, schema)
  await pool.end()
})

for (const synchronousCommit of [true, false]) {
  describeStoreConformance(
    `postgresStore with synchronousCommit: ${synchronousCommit}`,
    () => ({ store: postgresStore({ pool, schema, synchronousCommit }), advance: sleep }),
    { timeoutMs: 30_000 },
  )
}
