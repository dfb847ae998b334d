import { describeStoreConformance } from '@keyguard/testing/conformance'
import type pg from 'pg'
import { migratedSchema } from '../client/migrated-schema'
import { postgresStore } from './postgres-store'

// The store runs on the database's clock, so advance() sleeps for real. timeScale 10 (as for Redis):
// at scale 1 a window of 200 ms had to hold two reserve+settle round trips, which a busy machine misses.
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

let pool: pg.Pool
const schema = migratedSchema('conformance', (opened) => {
  pool = opened
})

for (const synchronousCommit of [true, false]) {
  describeStoreConformance(
    `postgresStore with synchronousCommit: ${synchronousCommit}`,
    () => ({ store: postgresStore({ pool, schema, synchronousCommit }), advance: sleep }),
    { timeoutMs: 120_000, timeScale: 10 },
  )
}
