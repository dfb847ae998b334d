import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { memoryStore } from './memory-store'
import type { LimitRule } from './store'

type Op =
  | { op: 'reserve'; amount: number; leaseMs: number }
  | { op: 'settle'; pick: number; cost: number }
  | { op: 'release'; pick: number }
  | { op: 'advance'; ms: number }
  | { op: 'refund'; amount: number }

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    op: fc.constant('reserve' as const),
    amount: fc.integer({ min: 0, max: 400 }),
    leaseMs: fc.integer({ min: 1, max: 300 }),
  }),
  fc.record({ op: fc.constant('settle' as const), pick: fc.nat(), cost: fc.integer({ min: 0, max: 600 }) }),
  fc.record({ op: fc.constant('release' as const), pick: fc.nat() }),
  fc.record({ op: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 200 }) }),
  fc.record({ op: fc.constant('refund' as const), amount: fc.integer({ min: 1, max: 300 }) }),
)

describe('memoryStore', () => {
  it('matches a simple model of a hard spend limit under any sequence of calls', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1000 }), fc.array(opArb, { maxLength: 60 }), (limit, ops) => {
        let now = 1_000_000
        const store = memoryStore({ now: () => now })
        const rule: LimitRule = {
          kind: 'spend',
          limitNanos: limit,
          period: { id: 'p', endsAt: 9e12 },
          softNanos: [],
        }
        const scope = 'tenant:t'
        // the model reclaims eagerly; the store lazily, which must not be observable
        let spent = 0
        const records: { id: string; amount: number; leaseEnd: number; status: string }[] = []
        const expire = () => {
          for (const r of records) {
            if (r.status === 'live' && r.leaseEnd <= now) {
              r.status = 'expired'
              spent += r.amount
            }
          }
        }
        const held = () => records.filter((r) => r.status === 'live').reduce((sum, r) => sum + r.amount, 0)
        ops.forEach((step, index) => {
          expire()
          if (step.op === 'reserve') {
            const id = `r${index}`
            const fits = step.amount <= Math.max(0, limit - spent - held())
            const result = store.reserve({
              id,
              charges: [{ scope, policy: 'spend', rule, amount: step.amount }],
              leaseMs: step.leaseMs,
            })
            expect((result as { ok: boolean }).ok).toBe(fits)
            if (fits) records.push({ id, amount: step.amount, leaseEnd: now + step.leaseMs, status: 'live' })
          } else if (step.op === 'settle' || step.op === 'release') {
            const record = records[step.pick % Math.max(1, records.length)]
            const id = record?.id ?? 'missing'
            const expected = !record
              ? 'unknown'
              : record.status === 'live'
                ? step.op === 'settle'
                  ? 'settled'
                  : 'released'
                : record.status === 'settled'
                  ? step.op === 'settle'
                    ? 'already-settled'
                    : 'settled'
                  : record.status === 'released' && step.op === 'release'
                    ? 'already-released'
                    : record.status
            const result =
              step.op === 'settle'
                ? store.settle({ id, actual: { costNanos: step.cost, tokens: 0 } })
                : store.release(id)
            expect((result as { status: string }).status).toBe(expected)
            if (record?.status === 'live') {
              record.status = step.op === 'settle' ? 'settled' : 'released'
              if (step.op === 'settle') spent += step.cost
            }
          } else if (step.op === 'advance') {
            now += step.ms
          } else {
            store.adjust({ scope, policy: 'spend', rule, delta: -step.amount })
            spent = Math.max(0, spent - step.amount)
          }
          expire()
          const [state] = store.peek({ scope, policies: [{ policy: 'spend', rule }] }) as {
            used: number
            held: number
            remaining: number
          }[]
          expect(state).toMatchObject({
            used: spent,
            held: held(),
            remaining: Math.max(0, limit - spent - held()),
          })
        })
      }),
      { numRuns: 300 },
    )
  })

  it('drops least recently used states without holds beyond maxKeys', () => {
    const store = memoryStore({ now: () => 0, maxKeys: 2 })
    const rule: LimitRule = { kind: 'requests', limit: 1, windowMs: 1000 }
    for (const scope of ['a', 'b', 'c']) {
      const id = `r-${scope}`
      store.reserve({ id, charges: [{ scope, policy: 'rps', rule, amount: 1 }], leaseMs: 10 })
      store.settle({ id, actual: { costNanos: 0, tokens: 0 } })
    }
    const peek = (scope: string) =>
      (store.peek({ scope, policies: [{ policy: 'rps', rule }] }) as { used: number }[])[0]?.used
    expect([peek('a'), peek('b'), peek('c')]).toEqual([0, 1, 1])
  })

  it('never evicts a state the same reservation is about to hold, even beyond maxKeys', () => {
    const store = memoryStore({ now: () => 0, maxKeys: 2 })
    const rule: LimitRule = {
      kind: 'spend',
      limitNanos: 100,
      period: { id: 'p', endsAt: 9e12 },
      softNanos: [],
    }
    const charges = ['a', 'b', 'c'].map((scope) => ({ scope, policy: 'spend', rule, amount: 60 }))
    expect(store.reserve({ id: 'r1', charges, leaseMs: 1000 })).toMatchObject({ ok: true })
    // every scope still sees its hold: a second reservation of 60 does not fit anywhere
    for (const scope of ['a', 'b', 'c']) {
      const charge = { scope, policy: 'spend', rule, amount: 60 }
      expect(store.reserve({ id: `r-${scope}`, charges: [charge], leaseMs: 1000 })).toMatchObject({
        ok: false,
      })
    }
  })

  it('keeps spend of the current period and credit balances when bounding memory', () => {
    let now = 0
    const store = memoryStore({ now: () => now, maxKeys: 2 })
    const spend: LimitRule = {
      kind: 'spend',
      limitNanos: 100,
      period: { id: 'p', endsAt: 1000 },
      softNanos: [],
    }
    const credits: LimitRule = { kind: 'credits' }
    const rps: LimitRule = { kind: 'requests', limit: 5, windowMs: 10 }
    store.adjust({ scope: 'wallet', policy: 'credits', rule: credits, delta: 500 })
    store.reserve({
      id: 's',
      charges: [{ scope: 'spender', policy: 'spend', rule: spend, amount: 90 }],
      leaseMs: 50,
    })
    store.settle({ id: 's', actual: { costNanos: 90, tokens: 0 } })
    for (const scope of ['x', 'y', 'z', 'w']) {
      store.reserve({ id: scope, charges: [{ scope, policy: 'rps', rule: rps, amount: 1 }], leaseMs: 5 })
      store.settle({ id: scope, actual: { costNanos: 0, tokens: 0 } })
    }
    const peek = (scope: string, policy: string, rule: LimitRule) =>
      (store.peek({ scope, policies: [{ policy, rule }] }) as { used: number; limit: number | null }[])[0]
    expect(peek('spender', 'spend', spend)?.used).toBe(90)
    expect(peek('wallet', 'credits', credits)?.limit).toBe(500)
    // once the period is over, the old spend state may go
    now = 2000
    for (const scope of ['v', 'u', 't']) {
      store.reserve({ id: scope, charges: [{ scope, policy: 'rps', rule: rps, amount: 1 }], leaseMs: 5 })
    }
    expect(peek('spender', 'spend', spend)?.used).toBe(0)
    expect(peek('wallet', 'credits', credits)?.limit).toBe(500)
  })

  it('joins repeated charges of one policy into one hold and ends it once', () => {
    const store = memoryStore({ now: () => 0 })
    const rpm: LimitRule = { kind: 'requests', limit: 10, windowMs: 1000 }
    const spend: LimitRule = {
      kind: 'spend',
      limitNanos: 100,
      period: { id: 'p', endsAt: 9e12 },
      softNanos: [],
    }
    const charges = [
      { scope: 'a', policy: 'rpm', rule: rpm, amount: 1 },
      { scope: 'a', policy: 'rpm', rule: rpm, amount: 2 },
      { scope: 'a', policy: 'spend', rule: spend, amount: 30 },
      { scope: 'a', policy: 'spend', rule: spend, amount: 40 },
    ]
    const reserved = store.reserve({ id: 'r', charges, leaseMs: 100 }) as { states: { held: number }[] }
    expect(reserved.states.map((state) => state.held)).toEqual([3, 3, 70, 70])
    const settled = store.settle({ id: 'r', actual: { costNanos: 50, tokens: 0 } }) as {
      states: { used: number; held: number }[]
    }
    expect(settled.states.map(({ used, held }) => [used, held])).toEqual([
      [3, 0],
      [3, 0],
      [50, 0],
      [50, 0],
    ])
  })

  it('forgets unsettled requests that age out of the window before they settle', () => {
    let now = 0
    const store = memoryStore({ now: () => now })
    const rule: LimitRule = { kind: 'requests', limit: 10, windowMs: 100 }
    const charge = { scope: 'a', policy: 'rpm', rule, amount: 1 }
    store.reserve({ id: 'old', charges: [charge, charge], leaseMs: 1000 })
    now = 50
    store.reserve({ id: 'new', charges: [charge], leaseMs: 1000 })
    now = 100
    const peek = () =>
      (store.peek({ scope: 'a', policies: [{ policy: 'rpm', rule }] }) as { used: number; held: number }[])[0]
    expect(peek()).toMatchObject({ used: 0, held: 1 })
    expect(store.settle({ id: 'old', actual: { costNanos: 0, tokens: 0 } })).toMatchObject({
      status: 'settled',
    })
    expect(peek()).toMatchObject({ used: 0, held: 1 })
    store.settle({ id: 'new', actual: { costNanos: 0, tokens: 0 } })
    expect(peek()).toMatchObject({ used: 1, held: 0 })
  })

  it('ends concurrent holds in any order', () => {
    const store = memoryStore({ now: () => 0 })
    const rule: LimitRule = { kind: 'concurrency', limit: 5 }
    const ids = ['r0', 'r1', 'r2', 'r3', 'r4']
    for (const id of ids)
      store.reserve({ id, charges: [{ scope: 'a', policy: 'c', rule, amount: 1 }], leaseMs: 10 })
    const held = () =>
      (store.peek({ scope: 'a', policies: [{ policy: 'c', rule }] }) as { held: number }[])[0]?.held
    expect(held()).toBe(5)
    let left = 5
    for (const id of ['r2', 'r0', 'r4', 'r1', 'r3']) {
      if (id === 'r4') store.release(id)
      else store.settle({ id, actual: { costNanos: 0, tokens: 0 } })
      expect(held()).toBe(--left)
    }
  })

  it('rejects amounts that are not non-negative safe integers', () => {
    const store = memoryStore()
    const rule: LimitRule = { kind: 'concurrency', limit: 1 }
    expect(() =>
      store.reserve({ id: 'x', charges: [{ scope: 'a', policy: 'c', rule, amount: 1.5 }], leaseMs: 10 }),
    ).toThrow(RangeError)
    expect(() =>
      store.reserve({ id: 'x', charges: [{ scope: 'a', policy: 'c', rule, amount: -1 }], leaseMs: 10 }),
    ).toThrow(RangeError)
    expect(() => store.adjust({ scope: 'a', policy: 'c', rule, delta: 1 })).toThrow(RangeError)
  })

  it('answers no states when asked for none, and gives each answer with events an array of its own', () => {
    let now = 0
    const store = memoryStore({ now: () => now })
    const rule: LimitRule = {
      kind: 'spend',
      limitNanos: 100,
      period: { id: 'p', endsAt: 9e12 },
      softNanos: [10],
    }
    const charges = [{ scope: 'a', policy: 's', rule, amount: 20 }]
    const quiet = store.reserve({ id: 'q', charges, leaseMs: 10, wantStates: false })
    expect(quiet).toEqual({ ok: true, replayed: false, states: [], events: [] })
    const settled = store.settle({ id: 'q', actual: { costNanos: 15, tokens: 0 }, wantStates: false }) as {
      states: unknown[]
      events: { type: string }[]
    }
    expect(settled.states).toEqual([])
    expect(settled.events.map((event) => event.type)).toEqual(['soft-limit'])
    // the next answer's events are not the last one's
    const loud = store.reserve({ id: 'l', charges, leaseMs: 10 }) as {
      states: { used: number }[]
      events: unknown[]
    }
    expect(loud.states.map((state) => state.used)).toEqual([15])
    expect(settled.events).toHaveLength(1)
    now = 20
    const expired = store.reserve({ id: 'm', charges, leaseMs: 10 }) as { events: { type: string }[] }
    expect(expired.events.map((event) => event.type)).toEqual(['lease-expired'])
    expect(settled.events).toHaveLength(1)
    expect(store.settle({ id: 'l', actual: { costNanos: 0, tokens: 0 }, wantStates: false })).toMatchObject({
      status: 'expired',
      states: [],
    })
    expect(store.release('l')).toEqual({ status: 'expired' })
  })
})
