import type pg from 'pg'
import { afterAll, beforeAll } from 'vitest'
import { migrate } from '../migrations/migrate'
import { dropSchema, testPool, testSchema } from './test-postgres'

/**
 * A migrated schema of its own for one test file: opened before its tests (the pool handed to `opened`),
 * dropped after them. Returns the schema's name.
 *
 * @example
 * ```ts
 * let pool: pg.Pool
 * const schema = migratedSchema('ledger', (opened) => { pool = opened })
 * ```
 */
export function migratedSchema(label: string, opened: (pool: pg.Pool) => void): string {
  const schema = testSchema(label)
  let pool: pg.Pool | undefined
  beforeAll(async () => {
    pool = await testPool()
    await migrate({ pool, schema })
    opened(pool)
  })
  afterAll(async () => {
    if (!pool) return
    await dropSchema(pool, schema)
    await pool.end()
  })
  return schema
}
