import type { Charge, CreditsRule, KeyguardStore, SpendRule } from '@keyguard/core'
import { expect } from 'vitest'
import type { PostgresLedger } from '../../ledger/postgres-ledger'
import { rebuildStore } from '../rebuild-store'

const AMOUNT = 12_345_678_901
/** Calls still admitted after the rebuild: the spend limit fits 10, 6 were made. */
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
const policies = charges.map(({ policy, rule }) => ({ policy, rule }))
const targets = [
  { scope, policy: 'spend-month', rule: spend },
  { scope, policy: 'credits', rule: balance },
]

/**
 * Spend in `store` as a guard would, recording each settled call and credit movement in `ledger`:
 * credits for 10 calls (plus 5 nanos), then 6 calls. Answers the store's states, to compare later.
 */
export async function spendAndRecord(store: KeyguardStore, ledger: PostgresLedger, label: string) {
  await store.adjust({
    scope,
    policy: 'credits',
    rule: balance,
    delta: 10 * AMOUNT + 5,
    idempotencyKey: `buy-${label}`,
  })
  ledger.record({
    type: 'credit',
    id: `buy-${label}`,
    kind: 'grant',
    scope,
    policy: 'credits',
    amountNanos: 10 * AMOUNT + 5,
    at: 1,
  })
  for (let i = 0; i < 6; i++) {
    const id = `${label}-call-${i}`
    expect((await store.reserve({ id, charges, leaseMs: 60_000 })).ok).toBe(true)
    await store.settle({ id, actual: { costNanos: AMOUNT, tokens: 0 } })
    ledger.record({
      type: 'call',
      reservationId: id,
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
  return strip(await store.peek({ scope, policies }))
}

const strip = (states: { used: number; remaining: number | null }[]) =>
  states.map(({ used, remaining }) => ({ used, remaining }))

/**
 * Rebuild `store` (which lost everything) from `ledger`, check it matches the states from before
 * the loss, that a second rebuild changes nothing, and that exactly K of 10 parallel calls are admitted.
 */
export async function rebuildAndAdmit(store: KeyguardStore, ledger: PostgresLedger, before: unknown) {
  const restored = await rebuildStore({ ledger, store, targets })
  expect(restored.map((r) => r.restoredNanos)).toEqual([6 * AMOUNT, 10 * AMOUNT + 5 + 6 * AMOUNT])
  const again = await rebuildStore({ ledger, store, targets })
  expect(again.map((r) => r.skipped)).toEqual(['up-to-date', 'store-not-empty'])
  expect(strip(await store.peek({ scope, policies }))).toEqual(before)
  const results = await Promise.all(
    Array.from({ length: 10 }, (_, i) => store.reserve({ id: `after-${i}`, charges, leaseMs: 60_000 })),
  )
  expect(results.filter((result) => result.ok)).toHaveLength(K)
}
