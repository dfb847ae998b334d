import {
  type Charge,
  type ChargeState,
  checkOptions,
  type KeyguardStore,
  type LimitRule,
} from '@keyguard/core'
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'

/** What `makeStore` gives the suite: a fresh store and a way to move its time. */
export interface ConformanceHarness {
  store: KeyguardStore
  /** Move the store's time forward: a fake clock for memory, a real sleep for Redis. */
  advance(ms: number): Promise<void>
  /** The store's clock in epoch ms (for grant expiry dates). @default `Date.now` */
  now?: () => number
  close?(): Promise<void>
}

/** Options for {@link describeStoreConformance}. */
export interface ConformanceOptions {
  /** fast-check runs for the property tests. @default 20 */
  numRuns?: number
  /** Per-test timeout in ms. @default the runner's own `testTimeout` (a hang guard: a busy machine is slow) */
  timeoutMs?: number
  /**
   * Stretches the sliding-window, token-bucket, short-lease and expiring-grant cases by this factor, for a store on real time (Redis
   * server time, where `advance` sleeps): their few round trips must fit well inside the window even on
   * a busy machine. A store on an injected clock needs none. @default 1
   */
  timeScale?: number
}

const FAR = Date.UTC(2099, 0, 1)
const LONG_LEASE = 60_000
const SHORT = 100
const period = (id: string) => ({ id, endsAt: FAR })
const spend = (limitNanos: number | null, softNanos: number[] = [], id = 'p1'): LimitRule => ({
  kind: 'spend',
  limitNanos,
  period: period(id),
  softNanos,
})
/** A requests, a tokens (no refill) and a spend limit: the three a guarded call most often charges. */
const rpmTpmSpend = (
  requests: number,
  tokens: number,
  nanos: number,
): { policy: string; rule: LimitRule }[] => [
  { policy: 'rpm', rule: { kind: 'requests', limit: requests, windowMs: LONG_LEASE } },
  { policy: 'tpm', rule: { kind: 'tokens', capacity: tokens, refillPerSecond: 0 } },
  { policy: 'spend', rule: spend(nanos) },
]
let counter = 0
const unique = (label: string) =>
  `${label}-${Date.now().toString(36)}-${(counter++).toString(36)}-${Math.random().toString(36).slice(2, 8)}`

/**
 * Run the store conformance suite: every invariant of `docs/store-semantics.md`, against a fresh
 * store from `makeStore` per test. Windows and leases stay ≤ 200 ms so a store on real time (Redis)
 * passes with real sleeps; each test uses its own scopes.
 *
 * @param name - the store's name, for the `describe` title.
 * @param makeStore - a fresh store per test, with `advance(ms)` moving its time.
 * @example
 * ```ts
 * import { memoryStore } from '@keyguard/core'
 * import { fakeClock } from '@keyguard/testing'
 * import { describeStoreConformance } from '@keyguard/testing/conformance'
 *
 * describeStoreConformance('memoryStore', async () => {
 *   const clock = fakeClock(Date.now())
 *   return { store: memoryStore({ now: clock.now }), now: clock.now, advance: async (ms) => void clock.advance(ms) }
 * })
 * ```
 */
export function describeStoreConformance(
  name: string,
  makeStore: () => Promise<ConformanceHarness> | ConformanceHarness,
  options: ConformanceOptions = {},
): void {
  checkOptions('describeStoreConformance', options, ['numRuns', 'timeoutMs', 'timeScale'])
  const { numRuns = 20, timeoutMs, timeScale = 1 } = options
  const scaled = (ms: number) => ms * timeScale
  // Leases and grants that must end during a case: scaled, so they do not end early on a busy machine.
  const short = scaled(SHORT)
  let open: ConformanceHarness[] = []
  const make = async () => {
    const harness = await makeStore()
    open.push(harness)
    return harness
  }
  const test = (title: string, body: () => Promise<void>) => it(title, body, timeoutMs)

  describe(`describeStoreConformance(${name})`, () => {
    afterEach(async () => {
      const closing = open
      open = []
      for (const harness of closing) await harness.close?.()
    })

    test('holds every charge or none across scopes', async () => {
      const { store } = await make()
      const a = unique('tenant')
      const b = unique('user')
      const charges = (amount: number): Charge[] => [
        { scope: a, policy: 'spend', rule: spend(100), amount },
        { scope: b, policy: 'spend', rule: spend(50), amount },
      ]
      const first = await store.reserve({ id: unique('r'), charges: charges(40), leaseMs: LONG_LEASE })
      expect(first.ok).toBe(true)
      const second = await store.reserve({ id: unique('r'), charges: charges(40), leaseMs: LONG_LEASE })
      expect(second.ok).toBe(false)
      if (!second.ok) {
        expect(second.denial).toMatchObject({
          scope: b,
          policy: 'spend',
          kind: 'spend',
          limit: 50,
          remaining: 10,
          requested: 40,
        })
      }
      const [stateA] = await store.peek({ scope: a, policies: [{ policy: 'spend', rule: spend(100) }] })
      expect(stateA).toMatchObject({ used: 0, held: 40, remaining: 60 })
    })

    test('leaves every state unchanged when it denies', async () => {
      const { store } = await make()
      const scope = unique('tenant')
      await store.adjust({ scope, policy: 'credits', rule: { kind: 'credits' }, delta: 500 })
      const rules: { policy: string; rule: LimitRule; amount: number }[] = [
        { policy: 'rpm', rule: { kind: 'requests', limit: 5, windowMs: LONG_LEASE }, amount: 1 },
        { policy: 'tpm', rule: { kind: 'tokens', capacity: 1000, refillPerSecond: 0 }, amount: 100 },
        { policy: 'conc', rule: { kind: 'concurrency', limit: 3 }, amount: 1 },
        { policy: 'credits', rule: { kind: 'credits' }, amount: 100 },
        { policy: 'spend', rule: spend(250), amount: 100 },
      ]
      const charges = rules.map((r) => ({ scope, ...r }))
      const policies = rules.map(({ policy, rule }) => ({ policy, rule }))
      await store.reserve({ id: unique('r'), charges, leaseMs: LONG_LEASE })
      await store.reserve({ id: unique('r'), charges, leaseMs: LONG_LEASE })
      const before = await store.peek({ scope, policies })
      const denied = await store.reserve({ id: unique('r'), charges, leaseMs: LONG_LEASE })
      expect(denied.ok).toBe(false)
      if (!denied.ok) expect(denied.denial.policy).toBe('spend')
      expect(stable(await store.peek({ scope, policies }))).toEqual(stable(before))
    })

    test('replays a repeated reserve without holding twice', async () => {
      const { store } = await make()
      const scope = unique('user')
      const id = unique('r')
      const charges: Charge[] = [{ scope, policy: 'spend', rule: spend(100), amount: 30 }]
      const first = await store.reserve({ id, charges, leaseMs: LONG_LEASE })
      const again = await store.reserve({ id, charges, leaseMs: LONG_LEASE })
      expect(first).toMatchObject({ ok: true, replayed: false })
      expect(again).toMatchObject({ ok: true, replayed: true })
      const [state] = await store.peek({ scope, policies: [{ policy: 'spend', rule: spend(100) }] })
      expect(state).toMatchObject({ held: 30, remaining: 70 })
    })

    test('settles once however often settle is called', async () => {
      const { store } = await make()
      const scope = unique('user')
      const id = unique('r')
      await store.reserve({
        id,
        charges: [{ scope, policy: 'spend', rule: spend(100), amount: 30 }],
        leaseMs: LONG_LEASE,
      })
      const first = await store.settle({ id, actual: { costNanos: 20, tokens: 0 } })
      const second = await store.settle({ id, actual: { costNanos: 20, tokens: 0 } })
      expect(first.status).toBe('settled')
      expect(second.status).toBe('already-settled')
      expect(second.states[0]).toMatchObject({ used: 20, held: 0, remaining: 80 })
      expect((await store.release(id)).status).toBe('settled')
      expect(
        (await store.settle({ id: unique('missing'), actual: { costNanos: 1, tokens: 0 } })).status,
      ).toBe('unknown')
      expect((await store.release(unique('missing'))).status).toBe('unknown')
    })

    test('releases once and frees what it held', async () => {
      const { store } = await make()
      const scope = unique('user')
      const id = unique('r')
      const rules = rpmTpmSpend(1, 50, 100)
      const charges = rules.map((r, i) => ({ scope, ...r, amount: [1, 50, 100][i] as number }))
      expect((await store.reserve({ id, charges, leaseMs: LONG_LEASE })).ok).toBe(true)
      expect((await store.release(id)).status).toBe('released')
      expect((await store.release(id)).status).toBe('already-released')
      expect((await store.settle({ id, actual: { costNanos: 5, tokens: 5 } })).status).toBe('released')
      const states = await store.peek({ scope, policies: rules })
      expect(states.map((s) => [s.used, s.held, s.remaining])).toEqual([
        [0, 0, 1],
        [0, 0, 50],
        [0, 0, 100],
      ])
      expect((await store.reserve({ id: unique('r'), charges, leaseMs: LONG_LEASE })).ok).toBe(true)
    })

    test('reserves and settles exactly with wantStates false, and answers states unless told not to', async () => {
      const { store } = await make()
      const scope = unique('tenant')
      const rules = rpmTpmSpend(2, 1000, 100)
      const charges = rules.map((r, i) => ({ scope, ...r, amount: [1, 400, 40][i] as number }))
      const quiet = unique('r')
      const reserved = await store.reserve({ id: quiet, charges, leaseMs: LONG_LEASE, wantStates: false })
      expect(reserved).toMatchObject({ ok: true, replayed: false })
      // a store may leave the states out, or answer them all: never a part of them
      if (reserved.ok) expect([0, 3]).toContain(reserved.states.length)
      const replayed = await store.reserve({ id: quiet, charges, leaseMs: LONG_LEASE, wantStates: false })
      expect(replayed).toMatchObject({ ok: true, replayed: true })
      const held = await store.peek({ scope, policies: rules })
      expect(held.map((s) => [s.used, s.held])).toEqual([
        [0, 1],
        [0, 400],
        [0, 40],
      ])
      const settled = await store.settle({
        id: quiet,
        actual: { costNanos: 30, tokens: 300 },
        wantStates: false,
      })
      expect(settled.status).toBe('settled')
      expect([0, 3]).toContain(settled.states.length)
      const again = await store.settle({
        id: quiet,
        actual: { costNanos: 90, tokens: 900 },
        wantStates: false,
      })
      expect(again.status).toBe('already-settled')
      expect([0, 3]).toContain(again.states.length)
      const after = await store.peek({ scope, policies: rules })
      expect(after.map((s) => [s.used, s.held, s.remaining])).toEqual([
        [1, 0, 1],
        [300, 0, 700],
        [30, 0, 70],
      ])
      // absent or true: the states, in the order of the charges
      const loud = unique('r')
      const answered = await store.reserve({ id: loud, charges, leaseMs: LONG_LEASE, wantStates: true })
      expect(answered.ok && answered.states.map((s) => [s.policy, s.held])).toEqual([
        ['rpm', 1],
        ['tpm', 400],
        ['spend', 40],
      ])
      const told = await store.settle({ id: loud, actual: { costNanos: 10, tokens: 100 } })
      expect(told.states.map((s) => [s.policy, s.used, s.held])).toEqual([
        ['rpm', 2, 0],
        ['tpm', 400, 0],
        ['spend', 40, 0],
      ])
      const repeated = await store.settle({
        id: loud,
        actual: { costNanos: 10, tokens: 100 },
        wantStates: true,
      })
      expect(repeated.status).toBe('already-settled')
      expect(stable(repeated.states)).toEqual(stable(told.states))
      const denied = await store.reserve({ id: unique('r'), charges, leaseMs: LONG_LEASE, wantStates: false })
      expect(denied.ok).toBe(false)
      if (!denied.ok) expect(denied.denial).toMatchObject({ policy: 'rpm', remaining: 0, requested: 1 })
    })

    test('settles into the period the reservation charged after a rollover', async () => {
      const { store } = await make()
      const scope = unique('tenant')
      const id = unique('r')
      await store.reserve({
        id,
        charges: [{ scope, policy: 'monthly', rule: spend(100, [], 'old'), amount: 40 }],
        leaseMs: LONG_LEASE,
      })
      const fresh = await store.peek({
        scope,
        policies: [{ policy: 'monthly', rule: spend(100, [], 'new') }],
      })
      expect(fresh[0]).toMatchObject({ used: 0, held: 0, remaining: 100 })
      const settled = await store.settle({ id, actual: { costNanos: 30, tokens: 0 } })
      expect(settled.status).toBe('settled')
      const [oldState, newState] = await store.peek({
        scope,
        policies: [
          { policy: 'monthly', rule: spend(100, [], 'old') },
          { policy: 'monthly', rule: spend(100, [], 'new') },
        ],
      })
      expect(oldState).toMatchObject({ used: 30, held: 0 })
      expect(newState).toMatchObject({ used: 0, held: 0, remaining: 100 })
    })

    test('records an overage in full and blocks at the limit', async () => {
      const { store } = await make()
      const scope = unique('tenant')
      const id = unique('r')
      await store.reserve({
        id,
        charges: [{ scope, policy: 'spend', rule: spend(100), amount: 50 }],
        leaseMs: LONG_LEASE,
      })
      const settled = await store.settle({ id, actual: { costNanos: 150, tokens: 0 } })
      expect(settled.states[0]).toMatchObject({ used: 150, remaining: 0 })
      const next = await store.reserve({
        id: unique('r'),
        charges: [{ scope, policy: 'spend', rule: spend(100), amount: 1 }],
        leaseMs: LONG_LEASE,
      })
      expect(next.ok).toBe(false)
    })

    test('reclaims expired holds: spend and credits as spent, rates as released', async () => {
      const { store, advance } = await make()
      const scope = unique('user')
      await store.adjust({ scope, policy: 'credits', rule: { kind: 'credits' }, delta: 1000 })
      const rules: { policy: string; rule: LimitRule; amount: number }[] = [
        { policy: 'rpm', rule: { kind: 'requests', limit: 1, windowMs: LONG_LEASE }, amount: 1 },
        { policy: 'tpm', rule: { kind: 'tokens', capacity: 50, refillPerSecond: 0 }, amount: 50 },
        { policy: 'conc', rule: { kind: 'concurrency', limit: 1 }, amount: 1 },
        { policy: 'spend', rule: spend(100), amount: 30 },
        { policy: 'credits', rule: { kind: 'credits' }, amount: 200 },
      ]
      const charges = rules.map((r) => ({ scope, ...r }))
      const id = unique('r')
      expect((await store.reserve({ id, charges, leaseMs: short })).ok).toBe(true)
      await advance(short + 50)
      const states = await store.peek({ scope, policies: rules })
      expect(states.map((s) => [s.used, s.held, s.remaining])).toEqual([
        [0, 0, 1],
        [0, 0, 50],
        [0, 0, 1],
        [30, 0, 70],
        [200, 0, 800],
      ])
      const settled = await store.settle({ id, actual: { costNanos: 1, tokens: 1 } })
      expect(settled.status).toBe('expired')
      const expired = settled.events.filter((e) => e.type === 'lease-expired')
      expect(
        expired.map((e) => [
          e.type === 'lease-expired' && e.policy,
          e.type === 'lease-expired' && e.reclaimedAs,
        ]),
      ).toEqual([
        ['rpm', 'released'],
        ['tpm', 'released'],
        ['conc', 'released'],
        ['spend', 'spent'],
        ['credits', 'spent'],
      ])
      expect((await store.release(id)).status).toBe('expired')
      const after = await store.peek({ scope, policies: rules })
      expect(stable(after)).toEqual(stable(states))
      expect((await store.reserve({ id: unique('r'), charges, leaseMs: LONG_LEASE })).ok).toBe(true)
    })

    test('reports reclaimed leases to the next reserve that touches them', async () => {
      const { store, advance } = await make()
      const scope = unique('user')
      const rule = spend(100)
      const id = unique('r')
      await store.reserve({ id, charges: [{ scope, policy: 'spend', rule, amount: 30 }], leaseMs: short })
      await advance(short + 50)
      const next = await store.reserve({
        id: unique('r'),
        charges: [{ scope, policy: 'spend', rule, amount: 70 }],
        leaseMs: LONG_LEASE,
      })
      expect(next.ok).toBe(true)
      expect(next.events).toContainEqual({
        type: 'lease-expired',
        scope,
        policy: 'spend',
        reservationId: id,
        reclaimedAs: 'spent',
      })
      if (next.ok) expect(next.states[0]).toMatchObject({ used: 30, held: 70, remaining: 0 })
    })

    test('admits exactly as many parallel reserves as fit', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 12 }),
          fc.integer({ min: 1, max: 1000 }),
          fc.integer({ min: 1, max: 25 }),
          async (fit, amount, parallel) => {
            const { store } = await make()
            const scope = unique('tenant')
            const rule = spend(fit * amount + (amount > 1 ? amount - 1 : 0))
            const results = await Promise.all(
              Array.from({ length: parallel }, () =>
                store.reserve({
                  id: unique('r'),
                  charges: [{ scope, policy: 'spend', rule, amount }],
                  leaseMs: LONG_LEASE,
                }),
              ),
            )
            expect(results.filter((r) => r.ok).length).toBe(Math.min(fit, parallel))
          },
        ),
        { numRuns },
      )
    })

    test('never lets settle twice differ from settle once', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 0, max: 500 }),
          fc.integer({ min: 0, max: 800 }),
          async (amount, cost) => {
            const { store } = await make()
            const scope = unique('tenant')
            const rule = spend(1000)
            const id = unique('r')
            await store.reserve({
              id,
              charges: [{ scope, policy: 'spend', rule, amount }],
              leaseMs: LONG_LEASE,
            })
            const once = await store.settle({ id, actual: { costNanos: cost, tokens: 0 } })
            const twice = await store.settle({ id, actual: { costNanos: cost * 2, tokens: 0 } })
            expect(stable(twice.states)).toEqual(stable(once.states))
            expect(once.states[0]?.used).toBe(cost)
          },
        ),
        { numRuns },
      )
    })

    test('leaves state identical whenever a random reserve is denied', async () => {
      const kinds: { policy: string; rule: LimitRule }[] = [
        { policy: 'rpm', rule: { kind: 'requests', limit: 4, windowMs: LONG_LEASE } },
        { policy: 'tpm', rule: { kind: 'tokens', capacity: 300, refillPerSecond: 0 } },
        { policy: 'conc', rule: { kind: 'concurrency', limit: 3 } },
        { policy: 'spend', rule: spend(500) },
        { policy: 'credits', rule: { kind: 'credits' } },
      ]
      const step = fc.array(fc.tuple(fc.constantFrom(...kinds.keys()), fc.integer({ min: 0, max: 200 })), {
        minLength: 1,
        maxLength: 4,
      })
      await fc.assert(
        fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 8 }), async (steps) => {
          const { store } = await make()
          const scope = unique('tenant')
          await store.adjust({ scope, policy: 'credits', rule: { kind: 'credits' }, delta: 400 })
          for (const picks of steps) {
            const charges = picks.map(([index, amount]) => {
              const { policy, rule } = kinds[index] as (typeof kinds)[number]
              const n = rule.kind === 'requests' || rule.kind === 'concurrency' ? 1 : amount
              return { scope, policy, rule, amount: n }
            })
            const before = await store.peek({ scope, policies: kinds })
            const result = await store.reserve({ id: unique('r'), charges, leaseMs: LONG_LEASE })
            if (!result.ok)
              expect(stable(await store.peek({ scope, policies: kinds }))).toEqual(stable(before))
          }
        }),
        { numRuns },
      )
    })

    test('ends every hold once its lease has passed', async () => {
      const { store, advance } = await make()
      const scope = unique('user')
      await store.adjust({ scope, policy: 'credits', rule: { kind: 'credits' }, delta: 10_000 })
      const rules: { policy: string; rule: LimitRule }[] = [
        { policy: 'rpm', rule: { kind: 'requests', limit: 1000, windowMs: LONG_LEASE } },
        { policy: 'conc', rule: { kind: 'concurrency', limit: 1000 } },
        { policy: 'spend', rule: spend(null) },
        { policy: 'credits', rule: { kind: 'credits' } },
      ]
      const leases = fc.sample(fc.integer({ min: 1, max: short }), 12)
      const ids = leases.map(() => unique('r'))
      await Promise.all(
        leases.map((leaseMs, i) =>
          store.reserve({
            id: ids[i] as string,
            charges: rules.map((r) => ({ scope, ...r, amount: 10 })),
            leaseMs: i < 2 ? LONG_LEASE : leaseMs, // the first two end by settle and release, not by time
          }),
        ),
      )
      await store.settle({ id: ids[0] as string, actual: { costNanos: 5, tokens: 0 } })
      await store.release(ids[1] as string)
      await advance(short + 50)
      const states = await store.peek({ scope, policies: rules })
      expect(states.map((s) => s.held)).toEqual([0, 0, 0, 0])
      const statuses = await Promise.all(ids.map((id) => store.release(id)))
      expect(statuses.map((r) => r.status).sort()).toEqual(
        ['expired', 'already-released', 'settled', ...Array(9).fill('expired')].sort(),
      )
    })

    test('fires each soft threshold once per period', async () => {
      const { store } = await make()
      const scope = unique('tenant')
      const soft = (id: string) => spend(null, [50, 80], id)
      const spendOnce = async (periodId: string, cost: number) => {
        const id = unique('r')
        await store.reserve({
          id,
          charges: [{ scope, policy: 'budget', rule: soft(periodId), amount: cost }],
          leaseMs: LONG_LEASE,
        })
        const settled = await store.settle({ id, actual: { costNanos: cost, tokens: 0 } })
        return settled.events
          .filter((e) => e.type === 'soft-limit')
          .map((e) => (e.type === 'soft-limit' ? e.thresholdNanos : 0))
      }
      expect(await spendOnce('p1', 30)).toEqual([])
      expect(await spendOnce('p1', 30)).toEqual([50])
      expect(await spendOnce('p1', 30)).toEqual([80])
      expect(await spendOnce('p1', 30)).toEqual([])
      await store.adjust({ scope, policy: 'budget', rule: soft('p1'), delta: -100 })
      expect(await spendOnce('p1', 60)).toEqual([])
      expect(await spendOnce('p2', 100)).toEqual([50, 80])
    })

    test('fires a soft threshold once under parallel settles', async () => {
      const { store } = await make()
      const scope = unique('tenant')
      const rule = spend(null, [100])
      const ids = Array.from({ length: 30 }, () => unique('r'))
      await Promise.all(
        ids.map((id) =>
          store.reserve({
            id,
            charges: [{ scope, policy: 'budget', rule, amount: 10 }],
            leaseMs: LONG_LEASE,
          }),
        ),
      )
      const settled = await Promise.all(
        ids.map((id) => store.settle({ id, actual: { costNanos: 10, tokens: 0 } })),
      )
      const soft = settled.flatMap((s) => s.events).filter((e) => e.type === 'soft-limit')
      expect(soft).toHaveLength(1)
      expect(soft[0]).toMatchObject({
        scope,
        policy: 'budget',
        thresholdNanos: 100,
        limitNanos: null,
        periodId: 'p1',
      })
    })

    test('consumes credits oldest first and drops expired grants', async () => {
      const { store, advance, now = Date.now } = await make()
      const scope = unique('user')
      const rule: LimitRule = { kind: 'credits' }
      await store.adjust({ scope, policy: 'credits', rule, delta: 100, expiresAt: now() + short })
      await store.adjust({ scope, policy: 'credits', rule, delta: 100 })
      const id = unique('r')
      await store.reserve({
        id,
        charges: [{ scope, policy: 'credits', rule, amount: 50 }],
        leaseMs: LONG_LEASE,
      })
      const settled = await store.settle({ id, actual: { costNanos: 50, tokens: 0 } })
      expect(settled.states[0]).toMatchObject({ limit: 150, used: 50, remaining: 150 })
      await advance(short + 50)
      const [state] = await store.peek({ scope, policies: [{ policy: 'credits', rule }] })
      expect(state).toMatchObject({ limit: 100, remaining: 100 })
      const denied = await store.reserve({
        id: unique('r'),
        charges: [{ scope, policy: 'credits', rule, amount: 101 }],
        leaseMs: LONG_LEASE,
      })
      expect(denied.ok).toBe(false)
      if (!denied.ok)
        expect(denied.denial).toMatchObject({
          kind: 'credits',
          remaining: 100,
          requested: 101,
          retryAfterMs: null,
        })
    })

    test('records credit overage as debt that the next grant pays', async () => {
      const { store } = await make()
      const scope = unique('user')
      const rule: LimitRule = { kind: 'credits' }
      await store.adjust({ scope, policy: 'credits', rule, delta: 100 })
      const id = unique('r')
      await store.reserve({
        id,
        charges: [{ scope, policy: 'credits', rule, amount: 100 }],
        leaseMs: LONG_LEASE,
      })
      await store.settle({ id, actual: { costNanos: 130, tokens: 0 } })
      const granted = await store.adjust({ scope, policy: 'credits', rule, delta: 100 })
      expect(granted).toMatchObject({ limit: 70, used: 130, remaining: 70 })
    })

    test('asks for one recharge at a time, at most maxPerPeriod a period', async () => {
      const { store } = await make()
      const scope = unique('tenant')
      const rule: LimitRule = {
        kind: 'credits',
        lowBalanceNanos: 200,
        autoRecharge: { thresholdNanos: 100, amountNanos: 500, maxPerPeriod: 2, period: period('p1') },
      }
      await store.adjust({ scope, policy: 'credits', rule, delta: 300 })
      const ids = Array.from({ length: 50 }, () => unique('r'))
      await Promise.all(
        ids.map((id) =>
          store.reserve({
            id,
            charges: [{ scope, policy: 'credits', rule, amount: 5 }],
            leaseMs: LONG_LEASE,
          }),
        ),
      )
      const settled = await Promise.all(
        ids.map((id) => store.settle({ id, actual: { costNanos: 5, tokens: 0 } })),
      )
      const events = settled.flatMap((s) => s.events)
      const due = events.filter((e) => e.type === 'recharge-due')
      expect(due).toHaveLength(1)
      expect(events.filter((e) => e.type === 'credits-low')).toHaveLength(1)
      const first = due[0]
      if (first?.type !== 'recharge-due') throw new Error('no recharge-due event')
      expect(first).toMatchObject({ scope, policy: 'credits', amountNanos: 500 })
      const recharged = await store.adjust({
        scope,
        policy: 'credits',
        rule,
        delta: 500,
        idempotencyKey: first.idempotencyKey,
      })
      expect(recharged.limit).toBe(550)
      const replay = await store.adjust({
        scope,
        policy: 'credits',
        rule,
        delta: 500,
        idempotencyKey: first.idempotencyKey,
      })
      expect(replay.limit).toBe(550)
      const spendDown = async (cost: number) => {
        const id = unique('r')
        await store.reserve({
          id,
          charges: [{ scope, policy: 'credits', rule, amount: cost }],
          leaseMs: LONG_LEASE,
        })
        return (await store.settle({ id, actual: { costNanos: cost, tokens: 0 } })).events
      }
      const second = (await spendDown(500)).filter((e) => e.type === 'recharge-due')
      expect(second).toHaveLength(1)
      const key = second[0]?.type === 'recharge-due' ? second[0].idempotencyKey : ''
      expect(key).not.toBe(first.idempotencyKey)
      await store.adjust({ scope, policy: 'credits', rule, delta: 0, idempotencyKey: key })
      expect((await spendDown(10)).filter((e) => e.type === 'recharge-due')).toHaveLength(0)
    })

    test('counts requests in a sliding window', async () => {
      const { store, advance } = await make()
      const scope = unique('user')
      const rule: LimitRule = { kind: 'requests', limit: 2, windowMs: scaled(200) }
      const charges: Charge[] = [{ scope, policy: 'rps', rule, amount: 1 }]
      for (const _ of [1, 2]) {
        const id = unique('r')
        expect((await store.reserve({ id, charges, leaseMs: LONG_LEASE })).ok).toBe(true)
        await store.settle({ id, actual: { costNanos: 0, tokens: 0 } })
      }
      const denied = await store.reserve({ id: unique('r'), charges, leaseMs: LONG_LEASE })
      expect(denied.ok).toBe(false)
      if (!denied.ok) {
        expect(denied.denial).toMatchObject({ kind: 'requests', limit: 2, remaining: 0, requested: 1 })
        expect(denied.denial.retryAfterMs).toBeGreaterThan(0)
        expect(denied.denial.retryAfterMs).toBeLessThanOrEqual(scaled(200))
      }
      await advance(scaled(250))
      expect((await store.reserve({ id: unique('r'), charges, leaseMs: LONG_LEASE })).ok).toBe(true)
    })

    test('refills a token bucket and makes an overage a debt', async () => {
      const { store, advance } = await make()
      const scope = unique('user')
      const rule: LimitRule = { kind: 'tokens', capacity: 100, refillPerSecond: 500 / timeScale }
      const charges = (amount: number): Charge[] => [{ scope, policy: 'tpm', rule, amount }]
      const id = unique('r')
      // A store on a real clock (Redis, Postgres) refills while a starved test process waits between
      // calls: the bounds allow for the refill the time really spent could bring, no more.
      const started = Date.now()
      const refilledSince = (at: number) => Math.ceil(((Date.now() - at) / 1000) * rule.refillPerSecond)
      expect((await store.reserve({ id, charges: charges(100), leaseMs: LONG_LEASE })).ok).toBe(true)
      const settled = await store.settle({ id, actual: { costNanos: 0, tokens: 150 } })
      expect(settled.states[0]?.remaining).toBeLessThanOrEqual(Math.max(0, refilledSince(started) - 50))
      const denied = await store.reserve({ id: unique('r'), charges: charges(100), leaseMs: LONG_LEASE })
      const waited = Date.now() - started
      expect(denied.ok).toBe(false)
      if (!denied.ok) {
        // 50 of debt plus 100 to take, at 500 a second: about 300 ms, less what refilled meanwhile
        expect(denied.denial.retryAfterMs).toBeGreaterThan(scaled(150) - waited)
        expect(denied.denial.retryAfterMs).toBeLessThanOrEqual(scaled(300))
      }
      await advance(scaled(120))
      const [state] = await store.peek({ scope, policies: [{ policy: 'tpm', rule }] })
      expect(state?.remaining).toBeGreaterThanOrEqual(10)
      // 150 to refill since the settle takes scaled(300): not full yet unless a starved process on a
      // real-clock store spent that long
      if (Date.now() - started < scaled(250)) expect(state?.remaining).toBeLessThan(100)
      await advance(scaled(250))
      const [full] = await store.peek({ scope, policies: [{ policy: 'tpm', rule }] })
      expect(full).toMatchObject({ remaining: 100, used: 0, resetAt: null })
    })

    test('limits live holds', async () => {
      const { store } = await make()
      const scope = unique('key')
      const rule: LimitRule = { kind: 'concurrency', limit: 2 }
      const charges: Charge[] = [{ scope, policy: 'conc', rule, amount: 1 }]
      const ids = [unique('r'), unique('r')]
      for (const id of ids) expect((await store.reserve({ id, charges, leaseMs: LONG_LEASE })).ok).toBe(true)
      const denied = await store.reserve({ id: unique('r'), charges, leaseMs: LONG_LEASE })
      expect(denied.ok).toBe(false)
      if (!denied.ok) expect(denied.denial.retryAfterMs).toBeGreaterThan(0)
      await store.settle({ id: ids[0] as string, actual: { costNanos: 0, tokens: 0 } })
      expect((await store.reserve({ id: unique('r'), charges, leaseMs: LONG_LEASE })).ok).toBe(true)
    })

    test('says in a spend denial what is settled, apart from what running calls hold', async () => {
      const { store } = await make()
      const scope = unique('tenant')
      const charges = (amount: number): Charge[] => [{ scope, policy: 'spend', rule: spend(100), amount }]
      const running = unique('r')
      expect((await store.reserve({ id: running, charges: charges(60), leaseMs: LONG_LEASE })).ok).toBe(true)
      const held = await store.reserve({ id: unique('r'), charges: charges(60), leaseMs: LONG_LEASE })
      expect(!held.ok && held.denial).toMatchObject({ kind: 'spend', remaining: 40, requested: 60, used: 0 })
      await store.settle({ id: running, actual: { costNanos: 70, tokens: 0 } })
      const spent = await store.reserve({ id: unique('r'), charges: charges(60), leaseMs: LONG_LEASE })
      expect(!spent.ok && spent.denial).toMatchObject({
        kind: 'spend',
        remaining: 30,
        requested: 60,
        used: 70,
      })
    })

    test('peeks fresh state and adjusts spend with idempotency', async () => {
      const { store } = await make()
      const scope = unique('tenant')
      const rule = spend(100)
      const [fresh] = await store.peek({ scope, policies: [{ policy: 'spend', rule }] })
      expect(fresh).toEqual({
        scope,
        policy: 'spend',
        kind: 'spend',
        limit: 100,
        used: 0,
        held: 0,
        remaining: 100,
        resetAt: FAR,
      })
      const id = unique('r')
      await store.reserve({
        id,
        charges: [{ scope, policy: 'spend', rule, amount: 60 }],
        leaseMs: LONG_LEASE,
      })
      await store.settle({ id, actual: { costNanos: 60, tokens: 0 } })
      const extra = await store.adjust({ scope, policy: 'spend', rule, delta: 50, idempotencyKey: 'bonus-1' })
      expect(extra).toMatchObject({ limit: 150, used: 60, remaining: 90 })
      const again = await store.adjust({ scope, policy: 'spend', rule, delta: 50, idempotencyKey: 'bonus-1' })
      expect(again).toMatchObject({ limit: 150, remaining: 90 })
      const refund = await store.adjust({ scope, policy: 'spend', rule, delta: -500 })
      expect(refund).toMatchObject({ used: 0, remaining: 150 })
    })
  })

  describe(`describeStoreConformance(${name}): object ownership`, () => {
    afterEach(async () => {
      const closing = open
      open = []
      for (const harness of closing) await harness.close?.()
    })
    const owners = (store: KeyguardStore) => {
      if (!store.claim || !store.ownerOf)
        throw new Error(
          'the store has no claim()/ownerOf(): the OpenAI proxy cannot keep tenants apart with it',
        )
      return { claim: store.claim.bind(store), ownerOf: store.ownerOf.bind(store) }
    }

    test('keeps the first claim of an object and reports its owner to everyone', async () => {
      const { claim, ownerOf } = owners((await make()).store)
      const objectId = unique('resp')
      expect(await ownerOf(objectId)).toBeNull()
      expect(await claim({ objectId, owner: 'tenant=acme', ttlMs: LONG_LEASE })).toEqual({
        owner: 'tenant=acme',
      })
      expect(await claim({ objectId, owner: 'tenant=globex', ttlMs: LONG_LEASE })).toEqual({
        owner: 'tenant=acme',
      })
      expect(await ownerOf(objectId)).toBe('tenant=acme')
      expect(await ownerOf(unique('resp'))).toBeNull()
    })

    test('forgets a claim after its ttl', async () => {
      const harness = await make()
      const { claim, ownerOf } = owners(harness.store)
      const objectId = unique('resp')
      await claim({ objectId, owner: 'tenant=acme', ttlMs: SHORT })
      await harness.advance(SHORT + 50)
      expect(await ownerOf(objectId)).toBeNull()
      expect(await claim({ objectId, owner: 'tenant=globex', ttlMs: LONG_LEASE })).toEqual({
        owner: 'tenant=globex',
      })
    })

    test('throws RangeError on an empty id or owner or a ttl below 1', async () => {
      const { claim } = owners((await make()).store)
      await expect(async () => claim({ objectId: '', owner: 'a', ttlMs: 1000 })).rejects.toThrow(RangeError)
      await expect(async () => claim({ objectId: 'x', owner: '', ttlMs: 1000 })).rejects.toThrow(RangeError)
      await expect(async () => claim({ objectId: 'x', owner: 'a', ttlMs: 0 })).rejects.toThrow(RangeError)
    })
  })
}

/** States without the token bucket's time-dependent reset, for equality across calls. */
function stable(states: readonly ChargeState[]): unknown[] {
  return states.map((s) => (s.kind === 'tokens' ? { ...s, resetAt: null } : s))
}
