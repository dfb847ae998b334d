import type { LedgerCallEntry, LedgerEntry } from '@keyguard/core'
import type pg from 'pg'
import { describe, expect, it } from 'vitest'
import { migratedSchema } from '../client/migrated-schema'
import type { Queryable } from '../client/pool-like'
import { type LedgerEvent, postgresLedger } from './postgres-ledger'

let pool: pg.Pool
const schema = migratedSchema('ledger', (opened) => {
  pool = opened
})

let serial = 0
const call = (costNanos: number): LedgerEntry => ({
  type: 'call',
  reservationId: `call-${process.pid}-${++serial}`,
  scope: { tenant: 't-ledger', user: `u${serial % 3}`, key: 'default', model: 'gpt-4o-mini' },
  keyName: 'default',
  fingerprint: 'sk-proj…Wq8A',
  model: serial % 2 === 0 ? 'gpt-4o-mini' : 'gpt-4o',
  endpoint: '/v1/chat/completions',
  tokens: { input: 10, cachedInput: 0, output: 5, reasoning: 0, total: 15 },
  costNanos,
  ending: 'complete',
  estimated: false,
  charges: [],
  startedAt: Date.UTC(2026, 10, 28, 12),
  settledAt: Date.UTC(2026, 10, 28, 12, 0, 1),
  upstreamRequestId: `req_${serial}`,
})

/** A pool that fails every query while `down` is true, as a database that went away would. */
const flaky = (inner: Queryable) => {
  const state = { down: false, failed: 0 }
  const pool: Queryable = {
    query: (text, values) => {
      if (state.down) {
        state.failed += 1
        return Promise.reject(
          Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
        )
      }
      return inner.query(text, values)
    },
  }
  return { pool, state }
}

describe('postgresLedger', () => {
  it('writes batches of calls and credit movements, once each however often they are recorded', async () => {
    const ledger = postgresLedger({ pool, schema, batchSize: 7 })
    const entries = Array.from({ length: 20 }, (_, i) => call(1_000_000_007 * (i + 1)))
    for (const entry of entries) ledger.record(entry)
    for (const entry of entries.slice(0, 5)) ledger.record(entry)
    ledger.record({
      type: 'credit',
      id: `grant-${serial}`,
      kind: 'grant',
      scope: 'tenant:t-ledger',
      policy: 'credits',
      amountNanos: 5,
      at: Date.now(),
    })
    await ledger.flush()
    expect(ledger.buffered).toBe(0)
    const ids = entries.map((entry) => (entry.type === 'call' ? entry.reservationId : ''))
    const { rows } = await pool.query(
      `SELECT count(*)::int AS n, sum(cost_nanos)::text AS cost FROM "${schema}".keyguard_calls WHERE reservation_id = ANY($1)`,
      [ids],
    )
    expect(rows[0]).toEqual({ n: 20, cost: String(1_000_000_007 * 210) })
  })

  it('writes any text as given: quotes, backslashes, braces, commas, NULL, empty, non-ASCII', async () => {
    const awkward = ['a"b', 'c\\d', '\\"', '{x,y}', 'NULL', 'null', '', ' spaced ', 'ünï €😀', 'tab\there']
    const ledger = postgresLedger({ pool, schema })
    // every other one without a model: a NULL among the text
    const entries = awkward.map(
      (text, i): LedgerCallEntry => ({
        ...(call(i + 1) as LedgerCallEntry),
        reservationId: `awkward-${process.pid}-${i}-${text}`,
        scope: { tenant: text, [text]: 'k' },
        keyName: text,
        model: i % 2 === 0 ? text : undefined,
        upstreamRequestId: text,
      }),
    )
    for (const entry of entries) ledger.record(entry)
    ledger.record({
      type: 'credit',
      id: `awkward-${process.pid}-"\\`,
      kind: 'grant',
      scope: 'tenant:"{,}\\',
      policy: 'NULL',
      amountNanos: 9_007_199_254_740_991,
      at: Date.UTC(2026, 10, 28, 12, 0, 0, 123),
    })
    await ledger.flush()
    const { rows } = await pool.query(
      `SELECT reservation_id, scope, key_name, model, upstream_request_id, cost_nanos::int AS cost
       FROM "${schema}".keyguard_calls WHERE reservation_id LIKE $1 ORDER BY cost_nanos`,
      [`awkward-${process.pid}-%`],
    )
    expect(rows).toEqual(
      entries.map((entry) => ({
        reservation_id: entry.reservationId,
        scope: entry.scope,
        key_name: entry.keyName,
        model: entry.model ?? null,
        upstream_request_id: entry.upstreamRequestId,
        cost: entry.costNanos,
      })),
    )
    const credit = await pool.query(
      `SELECT id, scope, policy, amount_nanos::text AS amount, (extract(epoch FROM at) * 1000)::bigint::text AS at
       FROM "${schema}".keyguard_credit_movements WHERE id = $1`,
      [`awkward-${process.pid}-"\\`],
    )
    expect(credit.rows).toEqual([
      {
        id: `awkward-${process.pid}-"\\`,
        scope: 'tenant:"{,}\\',
        policy: 'NULL',
        amount: '9007199254740991',
        at: String(Date.UTC(2026, 10, 28, 12, 0, 0, 123)),
      },
    ])
  })

  it('loses nothing and doubles nothing while the database fails, then catches up', async () => {
    const { pool: failing, state } = flaky(pool)
    const events: LedgerEvent[] = []
    let clock = 0
    const ledger = postgresLedger({
      pool: failing,
      schema,
      batchSize: 10,
      flushIntervalMs: 1,
      retryMs: 5,
      maxRetryMs: 20,
      lagWarningMs: 1,
      now: () => (clock += 10),
      onEvent: (event) => events.push(event),
    })
    const first = Array.from({ length: 15 }, () => call(3))
    for (const entry of first) ledger.record(entry)
    await ledger.flush()
    state.down = true
    const during = Array.from({ length: 40 }, () => call(11))
    for (const entry of during) ledger.record(entry)
    await expect.poll(() => state.failed).toBeGreaterThanOrEqual(3)
    await expect(ledger.flush()).rejects.toThrow(/ECONNREFUSED/)
    expect(ledger.buffered).toBe(40)
    expect(events.some((event) => event.type === 'write-failed')).toBe(true)
    expect(events.some((event) => event.type === 'lag')).toBe(true)
    state.down = false
    // the retry loop catches up on its own; flush() only waits for it
    await expect.poll(() => ledger.buffered, { timeout: 60_000 }).toBe(0)
    await ledger.flush()
    const all = [...first, ...during].map((entry) => (entry.type === 'call' ? entry.reservationId : ''))
    const { rows } = await pool.query(
      `SELECT count(*)::int AS n, sum(cost_nanos)::text AS cost FROM "${schema}".keyguard_calls WHERE reservation_id = ANY($1)`,
      [all],
    )
    expect(rows[0]).toEqual({ n: 55, cost: String(15 * 3 + 40 * 11) })
    expect(events.some((event) => event.type === 'dropped')).toBe(false)
  })

  it('reports what it cannot keep when its buffer is full, instead of dropping it silently', async () => {
    const { pool: failing, state } = flaky(pool)
    state.down = true
    const dropped: LedgerEntry[] = []
    const ledger = postgresLedger({
      pool: failing,
      schema,
      maxBuffered: 3,
      flushIntervalMs: 1_000,
      onEvent: (event) => event.type === 'dropped' && dropped.push(...event.entries),
    })
    const entries = Array.from({ length: 5 }, () => call(1))
    for (const entry of entries) ledger.record(entry)
    expect(ledger.buffered).toBe(3)
    expect(dropped).toEqual(entries.slice(3))
    state.down = false
    await ledger.flush()
  })

  it('keeps writing the other batches while one is slow', async () => {
    let unblock: () => void = () => {}
    const blocked = new Promise<void>((resolve) => {
      unblock = resolve
    })
    let queries = 0
    const slowFirst: Queryable = {
      query: async (text, values) => {
        if (++queries === 1) await blocked
        return pool.query(text, values)
      },
    }
    const written: number[] = []
    const ledger = postgresLedger({
      pool: slowFirst,
      schema,
      batchSize: 2,
      concurrency: 2,
      onEvent: (event) => event.type === 'written' && written.push(event.entries),
    })
    for (let i = 0; i < 10; i++) ledger.record(call(1))
    const flushed = ledger.flush()
    // the first batch is stuck; the second writer goes on through the other four
    await expect.poll(() => written.length, { timeout: 30_000 }).toBe(4)
    expect(ledger.buffered).toBe(2)
    unblock()
    await flushed
    expect(written).toEqual([2, 2, 2, 2, 2])
    expect(ledger.buffered).toBe(0)
  })

  it('keeps its tables append-only', async () => {
    await expect(pool.query(`DELETE FROM "${schema}".keyguard_calls`)).rejects.toThrow(/append-only/)
    await expect(
      pool.query(`UPDATE "${schema}".keyguard_credit_movements SET amount_nanos = 0`),
    ).rejects.toThrow(/append-only/)
  })

  it('sums spend by scope value, model and period', async () => {
    const ledger = postgresLedger({ pool, schema })
    const rows = await ledger.spend({ groupBy: ['user', 'model', 'day'], where: { tenant: 't-ledger' } })
    const total = await ledger.spend({ where: { tenant: 't-ledger' } })
    expect(rows.length).toBeGreaterThan(1)
    expect(rows.every((row) => row.group.day === '2026-11-28')).toBe(true)
    expect(rows.reduce((sum, row) => sum + row.costNanos, 0)).toBe(total[0]?.costNanos)
    expect(rows.reduce((sum, row) => sum + row.calls, 0)).toBe(total[0]?.calls)
    await expect(ledger.spend({ groupBy: ["x'; DROP TABLE y; --"] })).rejects.toThrow(RangeError)
  })
})
