import type pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { dropSchema, testPool, testSchema } from '../client/test-postgres'
import { migrate, migrations } from './migrate'

describe('migrate', () => {
  let pool: pg.Pool
  const schemas: string[] = []
  beforeAll(async () => {
    pool = await testPool()
  })
  afterAll(async () => {
    for (const schema of schemas) await dropSchema(pool, schema)
    await pool.end()
  })

  it('applies every migration once and records its version', async () => {
    const schema = testSchema('migrate')
    schemas.push(schema)
    const first = await migrate({ pool, schema })
    const again = await migrate({ pool, schema })
    expect(first.applied).toEqual(migrations.map((m) => m.version))
    expect(again.applied).toEqual([])
    const { rows } = await pool.query(`SELECT version FROM "${schema}".keyguard_migrations ORDER BY version`)
    expect(rows.map((row) => row.version)).toEqual(migrations.map((m) => m.version))
  })

  it('lets several processes migrate the same schema at once', async () => {
    const schema = testSchema('race')
    schemas.push(schema)
    const results = await Promise.all(Array.from({ length: 4 }, () => migrate({ pool, schema })))
    expect(results.flatMap((r) => r.applied).sort((a, b) => a - b)).toEqual(migrations.map((m) => m.version))
  })

  it('refuses a schema name that is not a plain identifier', async () => {
    await expect(migrate({ pool, schema: 'x"; DROP TABLE y; --' })).rejects.toMatchObject({
      code: 'config.invalid',
    })
  })
})
