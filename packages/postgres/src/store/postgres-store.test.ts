import type pg from 'pg'
import { describe, expect, it } from 'vitest'
import { migratedSchema } from '../client/migrated-schema'
import { postgresStore } from './postgres-store'

let pool: pg.Pool
const schema = migratedSchema('store', (opened) => {
  pool = opened
})

const rule = { kind: 'concurrency' as const, limit: 1 }

describe('postgresStore', () => {
  it('writes no record for a denied reserve', async () => {
    const store = postgresStore({ pool, schema })
    const charges = [{ scope: 'user:purge', policy: 'parallel', rule, amount: 1 }]
    expect((await store.reserve({ id: 'held', charges, leaseMs: 60_000 })).ok).toBe(true)
    expect((await store.reserve({ id: 'denied', charges, leaseMs: 60_000 })).ok).toBe(false)
    const { rows } = await pool.query(
      `SELECT id, forget_at IS NOT NULL AS due FROM "${schema}".keyguard_reservations ORDER BY id`,
    )
    expect(rows).toEqual([{ id: 'held', due: false }])
    expect(await store.settle({ id: 'denied', actual: { costNanos: 0, tokens: 0 } })).toMatchObject({
      status: 'unknown',
    })
  })

  it('holds once when the same reserve races itself', async () => {
    const store = postgresStore({ pool, schema })
    const spend = {
      kind: 'spend' as const,
      limitNanos: 100,
      period: { id: 'p', endsAt: Date.now() + 3_600_000 },
      softNanos: [],
    }
    const charges = [{ scope: 'user:race', policy: 'spend', rule: spend, amount: 30 }]
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => store.reserve({ id: 'racing', charges, leaseMs: 60_000 })),
    )
    expect(answers.every((answer) => answer.ok)).toBe(true)
    expect(answers.filter((answer) => answer.ok && !answer.replayed)).toHaveLength(1)
    const [state] = await store.peek({ scope: 'user:race', policies: [{ policy: 'spend', rule: spend }] })
    expect(state).toMatchObject({ held: 30, remaining: 70 })
  })

  it('admits exactly a requests limit under racing reserves, its sums equal to its log rows', async () => {
    const store = postgresStore({ pool, schema })
    const rpm = { kind: 'requests' as const, limit: 25, windowMs: 600_000 }
    const charges = [{ scope: 'user:rows', policy: 'rpm', rule: rpm, amount: 1 }]
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) => store.reserve({ id: `rq${i}`, charges, leaseMs: 600_000 })),
    )
    const admitted = answers.flatMap((answer, i) => (answer.ok ? [`rq${i}`] : []))
    expect(admitted).toHaveLength(25)
    await Promise.all(
      admitted.map((id, i) =>
        i % 2 === 0 ? store.settle({ id, actual: { costNanos: 0, tokens: 0 } }) : store.release(id),
      ),
    )
    const [state] = await store.peek({ scope: 'user:rows', policies: [{ policy: 'rpm', rule: rpm }] })
    expect(state).toMatchObject({ used: 13, held: 0, remaining: 12 })
    const { rows } = await pool.query(
      `SELECT count(*)::int AS n, bool_and(settled) AS settled FROM "${schema}".keyguard_request_log`,
    )
    expect(rows).toEqual([{ n: 13, settled: true }])
  })

  it('gives every racing claim of an object the same single owner', async () => {
    const store = postgresStore({ pool, schema })
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        store.claim?.({ objectId: 'resp_race', owner: `tenant=${i}`, ttlMs: 60_000 }),
      ),
    )
    const winner = answers[0]?.owner
    expect(winner).toMatch(/^tenant=/)
    expect(answers.every((answer) => answer?.owner === winner)).toBe(true)
    expect(await store.ownerOf?.('resp_race')).toBe(winner)
  })

  it('keeps a live claim’s expiry when the object is claimed again', async () => {
    const store = postgresStore({ pool, schema })
    const row = `SELECT owner, expires_at FROM "${schema}".keyguard_owners WHERE object_id = 'resp_ttl'`
    await store.claim?.({ objectId: 'resp_ttl', owner: 'tenant=acme', ttlMs: 60_000 })
    const before = await pool.query(row)
    await store.claim?.({ objectId: 'resp_ttl', owner: 'tenant=globex', ttlMs: 3_600_000 })
    expect((await pool.query(row)).rows).toEqual(before.rows)
    expect(before.rows[0]?.owner).toBe('tenant=acme')
  })

  it('answers the common reserve through the typed reserves, as keyguard_reserve would, named or not', async () => {
    const endsAt = Date.now() + 3_600_000
    const rules = {
      rpm: { kind: 'requests' as const, limit: 10, windowMs: 600_000 },
      spend: { kind: 'spend' as const, limitNanos: 1_000, period: { id: 'p', endsAt }, softNanos: [] },
      open: { kind: 'spend' as const, limitNanos: null, period: { id: 'p', endsAt }, softNanos: [] },
      parallel: { kind: 'concurrency' as const, limit: 3 },
    }
    type Policy = keyof typeof rules
    const charges = (user: string, policies: Policy[]) =>
      policies.map((policy) => ({
        scope: `user:${user}`,
        policy,
        rule: rules[policy],
        amount: rules[policy].kind === 'spend' ? 100 : 1,
      }))
    const shapes: [string, Policy[]][] = [
      ['typed', ['rpm', 'spend', 'open', 'parallel']],
      ...(Object.keys(rules) as Policy[]).map((policy): [string, Policy[]] => ['one', [policy]]),
    ]
    for (const namedStatements of [true, false]) {
      for (const [fn, policies] of shapes) {
        const sent: { text: string; result: unknown }[] = []
        const spy = {
          query: async (query: string | { text: string }, values?: unknown[]) => {
            const run = pool.query.bind(pool) as (q: unknown, v?: unknown[]) => Promise<pg.QueryResult>
            const result = await run(query, values)
            sent.push({
              text: typeof query === 'string' ? query : query.text,
              result: result.rows[0]?.result,
            })
            return result
          },
        }
        const store = postgresStore({ pool: spy, schema, namedStatements })
        const user = `${fn}-${policies.join('-')}-${namedStatements}`
        const reserve = (id: string) =>
          store.reserve({ id, charges: charges(user, policies), leaseMs: 600_000 })
        // the first reserve creates the states (the general path), the second finds them
        expect((await reserve(`${user}-1`)).ok).toBe(true)
        const answer = await reserve(`${user}-2`)
        expect(sent.at(-1)?.text).toContain(`keyguard_reserve_${fn}(`)
        expect(Array.isArray(sent.at(-1)?.result)).toBe(true)
        const peeked = await store.peek({
          scope: `user:${user}`,
          policies: policies.map((policy) => ({ policy, rule: rules[policy] })),
        })
        expect(answer).toEqual({ ok: true, replayed: false, events: [], states: peeked })
        expect(peeked.map(({ used, held }) => [used, held])).toEqual(
          policies.map((policy) => [0, rules[policy].kind === 'spend' ? 200 : 2]),
        )
        // a replay goes to the general path, which answers as before
        expect(await reserve(`${user}-2`)).toMatchObject({ ok: true, replayed: true })
      }
    }
    // no charge: the general path, a first reserve is not a replay
    const store = postgresStore({ pool, schema })
    expect(await store.reserve({ id: 'no-charges', charges: [], leaseMs: 600_000 })).toMatchObject({
      ok: true,
      replayed: false,
    })
  })

  it('refuses a schema name that is not a plain identifier', () => {
    expect(() => postgresStore({ pool, schema: 'Robert"); DROP TABLE x; --' })).toThrow(
      expect.objectContaining({ code: 'config.invalid' }),
    )
  })
})
