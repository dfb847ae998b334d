import { describeStoreConformance } from '@keyguard/testing/conformance'
import type pg from 'pg'
import { migratedSchema } from '../client/migrated-schema'
import { postgresStore } from './postgres-store'

// The store runs on the database's clock, so advance() sleeps for real; windows 10x wider, so a loaded
// machine's round trips fit inside them (as the Redis conformance run does).
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
