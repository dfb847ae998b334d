import type pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { dropSchema, testPool, testSchema } from '../client/test-postgres'
import { postgresStore } from '../store/postgres-store'
import { migrate } from './migrate'
import { migrateTo } from './migrate-to'

// Whatever the statistics say, a reserve and a settle reach a requests log through its indexes. Until
// migration 11, whether a live entry had its lease ended was an EXISTS over the window, which Postgres
// planned as a scan of the whole log once ANALYZE had seen a few thousand live entries: every reserve
// and settle then read every row of every key. The plans are read with auto_explain (a contrib module
// of every Postgres package), schema at migration 10 beside the newest.

const rpm = { kind: 'requests' as const, limit: 1e9, windowMs: 600_000 }
const charge = (user: number) => ({ scope: `user:${user}`, policy: 'rpm', rule: rpm, amount: 1 })

describe('the requests log under statistics of thousands of live entries', () => {
  let pool: pg.Pool
  const schemas = { before: testSchema('plans10'), after: testSchema('plans') }
  beforeAll(async () => {
    pool = await testPool()
    await migrateTo(pool, schemas.before, 10)
    await migrate({ pool, schema: schemas.after })
  })
  afterAll(async () => {
    await dropSchema(pool, schemas.before)
    await dropSchema(pool, schemas.after)
    await pool.end()
  })

  /** The log's scans in the plans of one reserve and one settle, after 3,000 live entries were analyzed. */
  const logScans = async (schema: string): Promise<string[]> => {
    const store = postgresStore({ pool, schema })
    for (let i = 0; i < 3_000; i += 16)
      await Promise.all(
        Array.from({ length: 16 }, (_, user) =>
          store.reserve({ id: `fill-${i + user}`, charges: [charge(user)], leaseMs: 600_000 }),
        ),
      )
    await pool.query(`ANALYZE "${schema}".keyguard_request_log`)
    const client = await pool.connect()
    const plans: string[] = []
    const onNotice = (notice: { message?: string | undefined }): void => {
      plans.push(notice.message ?? '')
    }
    try {
      await client.query(
        "LOAD 'auto_explain'; SET auto_explain.log_min_duration = 0; SET auto_explain.log_nested_statements = on; SET auto_explain.log_level = 'notice'; SET client_min_messages = notice",
      )
      client.on('notice', onNotice)
      const traced = postgresStore({ pool: client, schema })
      expect((await traced.reserve({ id: 'traced', charges: [charge(3)], leaseMs: 600_000 })).ok).toBe(true)
      await traced.settle({ id: 'traced', actual: { costNanos: 0, tokens: 0 } })
    } finally {
      client.off('notice', onNotice)
      await client.query('RESET ALL')
      client.release(true)
    }
    expect(plans.join('\n')).toContain('keyguard_request_log')
    if (process.env.SHOW_PLANS) process.stderr.write(`${plans.join('\n---\n')}\n`)
    return plans.flatMap(
      (plan) =>
        plan.match(/(?:Index Only|Index|Bitmap Heap|Seq) Scan[^\n]* on keyguard_request_log\b/g) ?? [],
    )
  }

  it('uses only index scans from migration 11 on (a schema at migration 10 scanned the table)', async () => {
    expect(await logScans(schemas.before)).toContainEqual(expect.stringMatching(/^Seq Scan/))
    const after = await logScans(schemas.after)
    expect(after.length).toBeGreaterThan(0)
    expect(after.filter((scan) => !/^Index (Only )?Scan/.test(scan))).toEqual([])
  }, 120_000)
})
