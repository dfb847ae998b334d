import type { ChargeState, KeyguardStore, LimitRule } from '@keyguard/core'
import type pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { dropSchema, testPool, testSchema } from '../client/test-postgres'
import { postgresStore } from '../store/postgres-store'
import { migrate, migrations } from './migrate'
import { migrateTo } from './migrate-to'

// Migration 9 gives reserve and settle a path on plain variables and keeps the old operations for every
// other case; migration 10 runs that path with fewer statements; migration 11 adds a reserve taking typed
// arguments and answering numbers (the store falls back to keyguard_reserve on a schema without it).
// Nothing stored changes shape. Two schemas
// live through the same operations: one stays at the version before (8, then 9), the other is upgraded to
// the newest half-way with reservations open. Every answer, every peek and every stored row must be the
// same on both (database times aside: they run a few ms apart).

/** A value with its database times (resetAt, retryAfterMs, leaseEnd) rounded to 10 s: the two schemas run ms apart. */
const coarse = (value: unknown): unknown =>
  JSON.parse(JSON.stringify(value), (key, field) =>
    ['resetAt', 'retryAfterMs', 'leaseEnd'].includes(key) && typeof field === 'number'
      ? Math.round(field / 10_000)
      : field,
  )

const endsAt = Date.now() + 3_600_000
const rules = {
  rpm: { kind: 'requests', limit: 4, windowMs: 600_000 },
  spend: { kind: 'spend', limitNanos: 1_000, period: { id: 'p1', endsAt }, softNanos: [300, 600] },
  open: { kind: 'spend', limitNanos: null, period: { id: 'p1', endsAt }, softNanos: [] },
  parallel: { kind: 'concurrency', limit: 3 },
  tokens: { kind: 'tokens', capacity: 10_000, refillPerSecond: 0 },
  credits: { kind: 'credits', lowBalanceNanos: 200 },
} satisfies Record<string, LimitRule>
type Policy = keyof typeof rules
const charge = (user: string, policy: Policy, amount: number) => ({
  scope: `user:${user}`,
  policy,
  rule: rules[policy],
  amount,
})

describe.each([
  { from: 8, to: 9, name: 'plain path' },
  { from: 9, to: 10, name: 'lean path' },
  { from: 10, to: 11, name: 'typed reserve' },
])('migration $to ($name) on a schema in use', ({ from }) => {
  let pool: pg.Pool
  const kept = testSchema(`at${from}`)
  const upgraded = testSchema(`from${from}`)
  let stores: KeyguardStore[]
  beforeAll(async () => {
    pool = await testPool()
    await migrateTo(pool, kept, from)
    await migrateTo(pool, upgraded, from)
    stores = [postgresStore({ pool, schema: kept }), postgresStore({ pool, schema: upgraded })]
  })
  afterAll(async () => {
    await dropSchema(pool, kept)
    await dropSchema(pool, upgraded)
    await pool.end()
  })

  /** Run `operation` on both schemas; the two answers must be the same. Returns the upgraded one's. */
  const both = async <T>(operation: (store: KeyguardStore) => T | Promise<T>): Promise<T> => {
    const [before, after] = [
      await operation(stores[0] as KeyguardStore),
      await operation(stores[1] as KeyguardStore),
    ]
    expect(coarse(after)).toEqual(coarse(before))
    return after
  }
  const peekAll = (store: KeyguardStore) =>
    Promise.all(
      ['u1', 'u2'].map((user) =>
        store.peek({
          scope: `user:${user}`,
          policies: Object.entries(rules).map(([policy, rule]) => ({ policy, rule })),
        }),
      ),
    )
  const rows = async (schema: string) => ({
    log: (
      await pool.query(
        `SELECT key, id, amount::int, settled FROM "${schema}".keyguard_request_log ORDER BY key, at, seq`,
      )
    ).rows,
    reservations: (
      await pool.query(
        `SELECT id, doc - 'leaseEnd' - 'finishedAt' AS doc, forget_at IS NULL AS live FROM "${schema}".keyguard_reservations ORDER BY id`,
      )
    ).rows,
    states: (
      await pool.query(
        `SELECT key, doc - 'at' - 'keys' AS doc FROM "${schema}".keyguard_states WHERE doc IS NOT NULL ORDER BY key`,
      )
    ).rows,
  })
  const settle = (id: string, costNanos: number) => (store: KeyguardStore) =>
    store.settle({ id, actual: { costNanos, tokens: costNanos } })
  const reserve = (id: string, charges: ReturnType<typeof charge>[]) => (store: KeyguardStore) =>
    store.reserve({ id, charges, leaseMs: 600_000 })

  it('keeps open reservations, balances and logs, and answers every later operation as the version before does', async () => {
    await both((store) =>
      store.adjust({
        scope: 'user:u1',
        policy: 'credits',
        rule: rules.credits,
        delta: 1_000,
        idempotencyKey: 'g1',
      }),
    )
    const all = (user: string, amount: number) => [
      charge(user, 'rpm', 1),
      charge(user, 'spend', amount),
      charge(user, 'open', amount),
      charge(user, 'parallel', 1),
      charge(user, 'tokens', amount),
      charge(user, 'credits', amount),
    ]
    await both(reserve('a', all('u1', 200)))
    await both(
      reserve('b', [charge('u1', 'rpm', 1), charge('u1', 'spend', 250), charge('u1', 'parallel', 1)]),
    )
    await both(reserve('c', [charge('u2', 'rpm', 2), charge('u2', 'open', 10)]))
    await both(settle('a', 150))
    await both(reserve('d', [charge('u1', 'spend', 100), charge('u1', 'credits', 100)]))
    const before = await peekAll(stores[1] as KeyguardStore)
    const stored = await rows(upgraded)

    expect((await migrate({ pool, schema: upgraded })).applied).toEqual(
      migrations.filter((m) => m.version > from).map((m) => m.version),
    )
    expect(await peekAll(stores[1] as KeyguardStore)).toEqual(before)
    expect(await rows(upgraded)).toEqual(stored)

    // the plain path: requests, spend and concurrency; then what it hands over: a soft limit crossed,
    // a denial, credits and tokens, a replay, a repeated state, a settle twice, a release
    await both(settle('b', 240))
    await both(settle('c', 7))
    await both(reserve('e', [charge('u2', 'rpm', 1), charge('u2', 'open', 5), charge('u2', 'parallel', 3)]))
    await both(reserve('f', [charge('u2', 'parallel', 1)]))
    await both(reserve('f2', [charge('u2', 'open', 5)]))
    await both(reserve('f3', [charge('u2', 'rpm', 1)]))
    await both(settle('f2', 3))
    await both(reserve('f4', [charge('u2', 'rpm', 1)]))
    await both(reserve('e', [charge('u2', 'rpm', 1), charge('u2', 'open', 5), charge('u2', 'parallel', 3)]))
    await both(settle('e', 3))
    await both(reserve('g', [charge('u1', 'rpm', 1), charge('u1', 'spend', 100)]))
    await both(reserve('h', [charge('u1', 'rpm', 1), charge('u1', 'spend', 100)]))
    await both(reserve('i', [charge('u1', 'rpm', 1), charge('u1', 'spend', 1)]))
    await both(settle('g', 350))
    await both(settle('g', 350))
    await both(settle('d', 100))
    await both(reserve('j', [charge('u2', 'rpm', 1), charge('u2', 'rpm', 1), charge('u2', 'open', 1)]))
    await both(reserve('k', all('u2', 50)))
    await both(settle('k', 60))
    await both((store) => store.release('j'))
    await both(settle('j', 1))
    await both(settle('nobody', 1))
    const states = (await both(peekAll)).flat() as ChargeState[]
    expect(states.find((state) => state.scope === 'user:u1' && state.policy === 'spend')).toMatchObject({
      used: 150 + 240 + 100 + 350,
      held: 100,
    })
    expect(coarse(await rows(upgraded))).toEqual(coarse(await rows(kept)))
  })
})
