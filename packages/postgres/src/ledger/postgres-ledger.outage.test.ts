import type { LedgerEntry } from '@keyguard/core'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { migratedSchema } from '../client/migrated-schema'
import { postgresUrl } from '../client/test-postgres'
import { type CuttableProxy, cuttableProxy } from './__fixtures__/cuttable-proxy'
import { type LedgerEvent, postgresLedger } from './postgres-ledger'

// The database "dies" for real as far as the ledger can tell: its pool talks to Postgres through a TCP
// proxy that the test cuts (open connections reset mid-batch, new ones refused) and brings back. The
// shared server on 5432 is never stopped.
let direct: pg.Pool
const schema = migratedSchema('outage', (opened) => {
  direct = opened
})
let proxy: CuttableProxy
let viaProxy: pg.Pool
beforeAll(async () => {
  const target = new URL(postgresUrl)
  proxy = await cuttableProxy({ host: target.hostname, port: Number(target.port || 5432) })
  target.host = `127.0.0.1:${proxy.port}`
  viaProxy = new pg.Pool({ connectionString: target.toString(), max: 3, connectionTimeoutMillis: 5_000 })
  viaProxy.on('error', () => {})
})
afterAll(async () => {
  await viaProxy?.end()
  await proxy?.close()
})

const call = (id: string, costNanos: number): LedgerEntry => ({
  type: 'call',
  reservationId: id,
  scope: { tenant: 't-outage' },
  keyName: 'default',
  fingerprint: 'sk-proj…Wq8A',
  model: 'gpt-4o-mini',
  endpoint: '/v1/chat/completions',
  tokens: { input: 10, output: 5, total: 15 },
  costNanos,
  ending: 'complete',
  estimated: false,
  charges: [],
  startedAt: Date.UTC(2026, 11, 4),
  settledAt: Date.UTC(2026, 11, 4, 0, 0, 1),
  upstreamRequestId: undefined,
})

describe('postgresLedger when the database dies', () => {
  it('loses nothing and doubles nothing across a cut in the middle of its writes', async () => {
    const events: LedgerEvent[] = []
    const ledger = postgresLedger({
      pool: viaProxy,
      schema,
      batchSize: 25,
      concurrency: 2,
      flushIntervalMs: 1,
      retryMs: 20,
      maxRetryMs: 200,
      onEvent: (event) => events.push(event),
    })
    const ids = Array.from({ length: 300 }, (_, i) => `outage-${process.pid}-${i}`)
    const cost = (i: number) => 1_000_000_007 + i
    for (const [i, id] of ids.slice(0, 150).entries()) ledger.record(call(id, cost(i)))
    // cut while batches are on the wire: some die before the database has them, some after it committed
    await expect.poll(() => proxy.inserts, { timeout: 30_000, interval: 1 }).toBeGreaterThan(0)
    await proxy.cut()
    for (const [i, id] of ids.slice(150).entries()) ledger.record(call(id, cost(150 + i)))
    await expect.poll(() => events.some((e) => e.type === 'write-failed'), { timeout: 30_000 }).toBe(true)
    expect(ledger.buffered).toBeGreaterThan(0)
    await expect(ledger.flush()).rejects.toThrow()

    await proxy.restore()
    await expect.poll(() => ledger.buffered, { timeout: 60_000 }).toBe(0)
    await ledger.flush()
    const { rows } = await direct.query(
      `SELECT count(*)::int AS n, count(DISTINCT reservation_id)::int AS distinct_ids, sum(cost_nanos)::text AS cost
       FROM "${schema}".keyguard_calls WHERE reservation_id = ANY($1)`,
      [ids],
    )
    const expected = ids.reduce((sum, _, i) => sum + cost(i), 0)
    expect(rows[0]).toEqual({ n: 300, distinct_ids: 300, cost: String(expected) })
    expect(events.some((event) => event.type === 'dropped')).toBe(false)
  }, 120_000)
})
