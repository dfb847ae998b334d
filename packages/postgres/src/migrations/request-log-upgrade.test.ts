import type pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { dropSchema, testPool, testSchema } from '../client/test-postgres'
import { postgresStore } from '../store/postgres-store'
import { migrate, migrations } from './migrate'
import { migrateTo } from './migrate-to'

// Migration 8 moves every requests log out of its state's JSON doc into rows: a schema used with
// migrations 1–6 keeps its counts, its live holds and their settles across the upgrade.
describe('migration 8 (request log rows) on a schema in use', () => {
  let pool: pg.Pool
  const schema = testSchema('upgrade')
  beforeAll(async () => {
    pool = await testPool()
    await migrateTo(pool, schema, 6)
  })
  afterAll(async () => {
    await dropSchema(pool, schema)
    await pool.end()
  })

  it('keeps used, held, resetAt and the live holds of every requests state', async () => {
    const store = postgresStore({ pool, schema })
    const rule = { kind: 'requests' as const, limit: 5, windowMs: 600_000 }
    const charge = (amount: number) => [{ scope: 'user:u1', policy: 'rpm', rule, amount }]
    for (const [id, amount] of [
      ['a', 1],
      ['b', 2],
      ['c', 1],
    ] as const)
      expect((await store.reserve({ id, charges: charge(amount), leaseMs: 600_000 })).ok).toBe(true)
    await store.settle({ id: 'a', actual: { costNanos: 0, tokens: 0 } })
    const peek = () => store.peek({ scope: 'user:u1', policies: [{ policy: 'rpm', rule }] })
    const before = await peek()
    expect(before).toMatchObject([{ used: 1, held: 3, remaining: 1 }])

    expect((await migrate({ pool, schema })).applied).toEqual(
      migrations.filter((m) => m.version > 6).map((m) => m.version),
    )
    expect(await peek()).toEqual(before)
    const { rows } = await pool.query(
      `SELECT id, amount::int, settled FROM "${schema}".keyguard_request_log ORDER BY seq`,
    )
    expect(rows).toEqual([
      { id: null, amount: 1, settled: true },
      { id: 'b', amount: 2, settled: false },
      { id: 'c', amount: 1, settled: false },
    ])

    expect(await store.settle({ id: 'b', actual: { costNanos: 0, tokens: 0 } })).toMatchObject({
      status: 'settled',
      states: [{ used: 3, held: 1, remaining: 1 }],
    })
    expect(await store.release('c')).toMatchObject({ status: 'released' })
    expect((await store.reserve({ id: 'd', charges: charge(2), leaseMs: 600_000 })).ok).toBe(true)
    const denied = await store.reserve({ id: 'e', charges: charge(1), leaseMs: 600_000 })
    expect(denied).toMatchObject({ ok: false, denial: { used: 3, remaining: 0 } })
    expect(await peek()).toMatchObject([{ used: 3, held: 2, remaining: 0, resetAt: before[0]?.resetAt }])
  })
})
