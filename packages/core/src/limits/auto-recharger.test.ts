import { describe, expect, it } from 'vitest'
import { autoRecharger } from './auto-recharger'
import { chargesFor } from './charges-for'
import { credits } from './credits'
import type { LimitEvent } from './limit-event'
import { memoryStore } from './memory-store'

const at = Date.UTC(2026, 10, 28, 12)

describe('autoRecharger', () => {
  it('recharges once under 100 concurrent crossings and grants the amount', async () => {
    const calls: string[] = []
    const policy = credits({
      scope: 'tenant',
      autoRecharge: {
        threshold: 500,
        amount: 1000,
        maxPerPeriod: 5,
        recharge: async (scope, _amount, key) => {
          calls.push(`${scope} ${key}`)
          await new Promise((resolve) => queueMicrotask(() => resolve(undefined)))
        },
      },
    })
    const store = memoryStore({ now: () => at })
    const events: LimitEvent[] = []
    const recharger = autoRecharger({ store, policies: [policy], emit: (e) => events.push(e), now: () => at })
    const rule = await policy.ruleFor('t1', at)
    await store.adjust({ scope: 'tenant:t1', policy: 'credits', rule, delta: 1000 })
    await Promise.all(
      Array.from({ length: 100 }, async (_, i) => {
        const charges = await chargesFor([policy], { tenant: 't1' }, { costNanos: 6, tokens: 0 }, at)
        const id = `r${i}`
        const reserved = await store.reserve({ id, charges, leaseMs: 60_000 })
        recharger.handle(reserved.events)
        recharger.handle((await store.settle({ id, actual: { costNanos: 6, tokens: 0 } })).events)
      }),
    )
    await recharger.idle()
    expect(calls).toEqual(['tenant:t1 recharge:tenant:t1:credits:2026-11:1'])
    expect(events.map((e) => e.type)).toEqual(['recharge-requested', 'recharge-succeeded'])
    const [state] = await store.peek({ scope: 'tenant:t1', policies: [{ policy: 'credits', rule }] })
    expect(state?.limit).toBe(1000 - 600 + 1000)
  })

  it('clears the pending mark when a recharge fails and stops at maxPerPeriod', async () => {
    const policy = credits({
      scope: 'tenant',
      autoRecharge: {
        threshold: 500,
        amount: 1000,
        maxPerPeriod: 5,
        recharge: () => {
          throw new Error('card declined')
        },
      },
    })
    const store = memoryStore({ now: () => at })
    const events: LimitEvent[] = []
    const recharger = autoRecharger({ store, policies: [policy], emit: (e) => events.push(e), now: () => at })
    const rule = await policy.ruleFor('t1', at)
    await store.adjust({ scope: 'tenant:t1', policy: 'credits', rule, delta: 100 })
    const run = async (id: string) => {
      const charges = await chargesFor([policy], { tenant: 't1' }, { costNanos: 1, tokens: 0 }, at)
      recharger.handle((await store.reserve({ id, charges, leaseMs: 60_000 })).events)
      await recharger.idle()
      recharger.handle((await store.settle({ id, actual: { costNanos: 1, tokens: 0 } })).events)
      await recharger.idle()
    }
    for (const id of ['a', 'b', 'c', 'd']) await run(id)
    expect(events.filter((e) => e.type === 'recharge-requested')).toHaveLength(5)
    expect(events.filter((e) => e.type === 'recharge-failed')).toHaveLength(5)
    expect(events.at(-1)).toMatchObject({
      type: 'recharge-failed',
      idempotencyKey: 'recharge:tenant:t1:credits:2026-11:5',
    })
  })
})
