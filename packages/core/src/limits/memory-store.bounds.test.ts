import { describe, expect, it } from 'vitest'
import { isKeyguardError } from '../errors/keyguard-error'
import { memoryStore } from './memory-store'
import type { LimitRule, ScopeKey } from './store'

const spend = (endsAt = 9e12, id = 'p'): LimitRule => ({
  kind: 'spend',
  limitNanos: 1_000,
  period: { id, endsAt },
  softNanos: [],
})
const rpm: LimitRule = { kind: 'requests', limit: 100, windowMs: 60_000 }
const credits: LimitRule = { kind: 'credits' }

/** Reserve 10 of `rule` for `scope` (and one request), then settle it at `cost`. */
const call = (
  store: ReturnType<typeof memoryStore>,
  id: string,
  scope: ScopeKey,
  rule: LimitRule,
  cost = 10,
) => {
  const reserved = store.reserve({
    id,
    leaseMs: 1_000,
    charges: [
      { scope, policy: 'rpm', rule: rpm, amount: 1 },
      { scope, policy: 'budget', rule, amount: 10 },
    ],
  })
  if (!('ok' in reserved) || !reserved.ok) throw new Error(`${id} was denied`)
  store.settle({ id, actual: { costNanos: cost, tokens: 0 } })
}

const usedOf = (store: ReturnType<typeof memoryStore>, scope: ScopeKey, policy: string, rule: LimitRule) =>
  (store.peek({ scope, policies: [{ policy, rule }] }) as { used: number; limit: number | null }[])[0]

const refusal = (action: () => unknown) => {
  try {
    action()
  } catch (error) {
    if (isKeyguardError(error)) return error
    throw error
  }
  throw new Error('expected a refusal')
}

describe('memoryStore bounds', () => {
  it('refuses a new tenant with store.misconfigured naming maxMoneyStates once that many hold money', () => {
    const store = memoryStore({ now: () => 0, maxMoneyStates: 2 })
    call(store, 'a1', 'tenant:a', spend())
    call(store, 'b1', 'tenant:b', spend())
    const error = refusal(() =>
      store.reserve({
        id: 'c1',
        leaseMs: 1_000,
        charges: [
          { scope: 'tenant:c', policy: 'rpm', rule: rpm, amount: 1 },
          { scope: 'tenant:c', policy: 'budget', rule: spend(), amount: 10 },
        ],
      }),
    )
    expect(error.code).toBe('store.misconfigured')
    expect(error.message).toContain('maxMoneyStates')
    expect(error.operatorHint).toContain('maxMoneyStates')
    // the refusal wrote nothing: the request was not counted, the id is unknown
    expect(usedOf(store, 'tenant:c', 'rpm', rpm)?.used).toBe(0)
    expect(store.settle({ id: 'c1', actual: { costNanos: 10, tokens: 0 } })).toMatchObject({
      status: 'unknown',
    })
    // the tenants already kept go on
    call(store, 'a2', 'tenant:a', spend())
    expect(usedOf(store, 'tenant:a', 'budget', spend())?.used).toBe(20)
  })

  it('refuses an adjust that would keep one more balance than maxMoneyStates', () => {
    const store = memoryStore({ now: () => 0, maxMoneyStates: 1 })
    store.adjust({ scope: 'org:a', policy: 'credits', rule: credits, delta: 500 })
    const error = refusal(() =>
      store.adjust({ scope: 'org:b', policy: 'credits', rule: credits, delta: 500 }),
    )
    expect(error.code).toBe('store.misconfigured')
    expect(error.message).toContain('maxMoneyStates')
    expect(usedOf(store, 'org:a', 'credits', credits)?.limit).toBe(500)
    expect(usedOf(store, 'org:b', 'credits', credits)?.limit).toBe(0)
  })

  it('never drops spend or credits, however many tenants pass through a small maxKeys', () => {
    const store = memoryStore({ now: () => 0, maxKeys: 3, maxMoneyStates: 100 })
    for (let tenant = 0; tenant < 40; tenant++) {
      call(store, `s${tenant}`, `tenant:${tenant}`, spend(), tenant + 1)
      store.adjust({ scope: `org:${tenant}`, policy: 'credits', rule: credits, delta: 1_000 + tenant })
    }
    // rate-only traffic from many more scopes churns the states that may go
    for (let user = 0; user < 500; user++) {
      store.reserve({
        id: `u${user}`,
        leaseMs: 10,
        charges: [{ scope: `user:${user}`, policy: 'rpm', rule: rpm, amount: 1 }],
      })
    }
    for (let tenant = 0; tenant < 40; tenant++) {
      expect(usedOf(store, `tenant:${tenant}`, 'budget', spend())?.used).toBe(tenant + 1)
      expect(usedOf(store, `org:${tenant}`, 'credits', credits)?.limit).toBe(1_000 + tenant)
    }
    // and the states that may go did: the first users' requests were forgotten
    expect(usedOf(store, 'user:0', 'rpm', rpm)?.used).toBe(0)
  })

  it('frees the room of a period once it has ended', () => {
    let now = 0
    const store = memoryStore({ now: () => now, maxMoneyStates: 1 })
    call(store, 'a1', 'tenant:a', spend(1_000, 'p1'))
    expect(refusal(() => call(store, 'b1', 'tenant:b', spend(1_000, 'p1'))).code).toBe('store.misconfigured')
    now = 1_000
    call(store, 'b2', 'tenant:b', spend(2_000, 'p2'))
    expect(usedOf(store, 'tenant:b', 'budget', spend(2_000, 'p2'))?.used).toBe(10)
  })

  it('frees the room of a tenant whose reservations spent nothing', () => {
    const store = memoryStore({ now: () => 0, maxMoneyStates: 1 })
    store.reserve({
      id: 'a1',
      leaseMs: 1_000,
      charges: [{ scope: 'tenant:a', policy: 'budget', rule: spend(), amount: 10 }],
    })
    store.release('a1')
    call(store, 'b1', 'tenant:b', spend())
    expect(usedOf(store, 'tenant:b', 'budget', spend())?.used).toBe(10)
  })

  it('counts a held reservation against maxMoneyStates until it ends', () => {
    let now = 0
    const store = memoryStore({ now: () => now, maxMoneyStates: 1 })
    store.reserve({
      id: 'a1',
      leaseMs: 100,
      charges: [{ scope: 'tenant:a', policy: 'budget', rule: spend(), amount: 10 }],
    })
    expect(refusal(() => call(store, 'b1', 'tenant:b', spend())).code).toBe('store.misconfigured')
    // the lease ends unsettled: the hold is reclaimed as spent, so tenant a stays kept
    now = 200
    expect(refusal(() => call(store, 'b2', 'tenant:b', spend())).code).toBe('store.misconfigured')
    expect(usedOf(store, 'tenant:a', 'budget', spend())?.used).toBe(10)
  })

  it('validates maxMoneyStates', () => {
    expect(() => memoryStore({ maxMoneyStates: 0 })).toThrow(/maxMoneyStates/)
    expect(() => memoryStore({ maxKeys: 1.5 })).toThrow(/maxKeys/)
  })
})
