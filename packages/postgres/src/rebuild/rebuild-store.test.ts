import { type Charge, type CreditsRule, memoryStore, type SpendRule } from '@keyguard/core'
import type pg from 'pg'
import { describe, expect, it } from 'vitest'
import { migratedSchema } from '../client/migrated-schema'
import { postgresLedger } from '../ledger/postgres-ledger'
import { rebuildStore } from './rebuild-store'

let pool: pg.Pool
const schema = migratedSchema('rebuild', (opened) => {
  pool = opened
})

const AMOUNT = 12_345_678_901
const K = 4
const scope = 'tenant:rebuild'
const spend: SpendRule = {
  kind: 'spend',
  limitNanos: 10 * AMOUNT,
  period: { id: '2026-12', endsAt: Date.UTC(2099, 0, 1) },
  softNanos: [],
}
const balance: CreditsRule = { kind: 'credits' }
const charges: Charge[] = [
  { scope, policy: 'spend-month', rule: spend, amount: AMOUNT },
  { scope, policy: 'credits', rule: balance, amount: AMOUNT },
]

describe('rebuildStore', () => {
  it('restores spend and credits from the ledger so exactly K more calls are admitted', async () => {
    const ledger = postgresLedger({ pool, schema })
    const lost = memoryStore()
    // credits for exactly 10 calls; 6 calls spend AMOUNT each, recorded as the guard records them
    await lost.adjust({
      scope,
      policy: 'credits',
      rule: balance,
      delta: 10 * AMOUNT + 5,
      idempotencyKey: 'buy-1',
    })
    ledger.record({
      type: 'credit',
      id: 'buy-1',
      kind: 'grant',
      scope,
      policy: 'credits',
      amountNanos: 10 * AMOUNT + 5,
      at: 1,
    })
    for (let i = 0; i < 6; i++) {
      const id = `call-${i}`
      expect((await lost.reserve({ id, charges, leaseMs: 60_000 })).ok).toBe(true)
      await lost.settle({ id, actual: { costNanos: AMOUNT, tokens: 0 } })
      ledger.record({
        type: 'call',
        reservationId: `${schema}-${id}`,
        scope: { tenant: 'rebuild' },
        keyName: 'default',
        fingerprint: 'sk-proj…Wq8A',
        model: 'gpt-4o-mini',
        endpoint: '/v1/chat/completions',
        tokens: {},
        costNanos: AMOUNT,
        ending: 'complete',
        estimated: false,
        charges: [
          { scope, policy: 'spend-month', kind: 'spend', resetAt: spend.period.endsAt },
          { scope, policy: 'credits', kind: 'credits', resetAt: null },
        ],
        startedAt: 2 + i,
        settledAt: 2 + i,
        upstreamRequestId: undefined,
      })
      ledger.record({
        type: 'credit',
        id: `consume:${id}`,
        kind: 'consume',
        scope,
        policy: 'credits',
        amountNanos: AMOUNT,
        reservationId: id,
        at: 2 + i,
      })
    }
    await ledger.flush()

    // the cache lost everything: a fresh store would admit 10 more
    const store = memoryStore()
    const targets = [
      { scope, policy: 'spend-month', rule: spend },
      { scope, policy: 'credits', rule: balance },
    ]
    const restored = await rebuildStore({ ledger, store, targets })
    expect(restored.map((r) => r.restoredNanos)).toEqual([6 * AMOUNT, 10 * AMOUNT + 5 + 6 * AMOUNT])
    const again = await rebuildStore({ ledger, store, targets })
    expect(again.map((r) => r.skipped)).toEqual(['up-to-date', 'store-not-empty'])

    const policies = charges.map(({ policy, rule }) => ({ policy, rule }))
    const strip = (states: { used: number; remaining: number | null }[]) =>
      states.map(({ used, remaining }) => ({ used, remaining }))
    expect(strip(await store.peek({ scope, policies }))).toEqual(strip(await lost.peek({ scope, policies })))

    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => store.reserve({ id: `after-${i}`, charges, leaseMs: 60_000 })),
    )
    expect(results.filter((result) => result.ok)).toHaveLength(K)
  })
})
