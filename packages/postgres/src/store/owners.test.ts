import type pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { dropSchema, testPool, testSchema } from '../client/test-postgres'
import { migrate } from '../migrations/migrate'
import { postgresOwners } from './owners'

let pool: pg.Pool
const schema = testSchema('owners')
beforeAll(async () => {
  pool = await testPool()
  await migrate({ pool, schema })
})
afterAll(async () => {
  await dropSchema(pool, schema)
  await pool.end()
})

describe('postgresOwners', () => {
  it('gives every racing claim the same single owner', async () => {
    const owners = postgresOwners(pool, `"${schema}".keyguard_owners`)
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        owners.claim({ objectId: 'resp_race', owner: `tenant=${i}`, ttlMs: 60_000 }),
      ),
    )
    const winner = answers[0]?.owner
    expect(answers.every((answer) => answer.owner === winner)).toBe(true)
    expect(await owners.ownerOf('resp_race')).toBe(winner)
  })

  it('keeps a live claim’s expiry when it is claimed again', async () => {
    const owners = postgresOwners(pool, `"${schema}".keyguard_owners`)
    await owners.claim({ objectId: 'resp_ttl', owner: 'tenant=acme', ttlMs: 60_000 })
    const before = await pool.query(
      `SELECT expires_at FROM "${schema}".keyguard_owners WHERE object_id = 'resp_ttl'`,
    )
    await owners.claim({ objectId: 'resp_ttl', owner: 'tenant=globex', ttlMs: 3_600_000 })
    const after = await pool.query(
      `SELECT owner, expires_at FROM "${schema}".keyguard_owners WHERE object_id = 'resp_ttl'`,
    )
    expect(after.rows[0]).toEqual({ owner: 'tenant=acme', expires_at: before.rows[0]?.expires_at })
  })
})
