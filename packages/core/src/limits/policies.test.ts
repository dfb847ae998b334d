import { describe, expect, it } from 'vitest'
import { isKeyguardError } from '../errors/keyguard-error'
import { chargesFor } from './charges-for'
import { concurrencyLimit } from './concurrency-limit'
import { credits } from './credits'
import { denialToError } from './denial-to-error'
import { requestLimit } from './request-limit'
import { spendLimit } from './spend-limit'
import { tokenLimit } from './token-limit'

const at = Date.UTC(2026, 10, 28, 12)
const codeOf = (fn: () => unknown) => {
  try {
    fn()
  } catch (error) {
    return isKeyguardError(error) ? error.code : 'other'
  }
  return 'none'
}

describe('requestLimit', () => {
  it('rejects a zero window at construction', () => {
    expect(codeOf(() => requestLimit({ scope: 'user', limit: 5, windowMs: 0 }))).toBe('config.invalid')
    expect(requestLimit({ scope: 'user', limit: 5, windowMs: 1000 }).ruleFor('u', at)).toEqual({
      kind: 'requests',
      limit: 5,
      windowMs: 1000,
    })
  })
})

describe('every limit', () => {
  it('rejects a scope kind with a colon or whitespace, which could share a store key with another kind', () => {
    for (const scope of ['tenant:eu', 'te nant', ' '])
      expect(
        codeOf(() => spendLimit({ scope, limit: 1, period: 'month' })),
        scope,
      ).toBe('config.invalid')
    expect(codeOf(() => concurrencyLimit({ scope: 'org:a', limit: 1 }))).toBe('config.invalid')
    expect(codeOf(() => requestLimit({ scope: 'org_id', limit: 1, windowMs: 1000 }))).toBe('none')
  })
})

describe('tokenLimit', () => {
  it('rejects a negative capacity at construction', () => {
    expect(codeOf(() => tokenLimit({ scope: 'user', capacity: -5, refillPerSecond: 1 }))).toBe(
      'config.invalid',
    )
  })
})

describe('concurrencyLimit', () => {
  it('rejects a fractional limit at construction', () => {
    expect(codeOf(() => concurrencyLimit({ scope: 'key', limit: 1.5 }))).toBe('config.invalid')
  })
})

describe('credits', () => {
  it('rejects autoRecharge without a recharge function', () => {
    const autoRecharge = { threshold: 1, amount: 10, maxPerPeriod: 1 }
    // @ts-expect-error recharge is required
    expect(codeOf(() => credits({ scope: 'tenant', autoRecharge }))).toBe('config.invalid')
  })

  it('builds a rule with the recharge period', async () => {
    const policy = credits({
      scope: 'tenant',
      lowBalance: 50,
      autoRecharge: { threshold: 10, amount: 100, maxPerPeriod: 2, recharge: () => {} },
    })
    expect(await policy.ruleFor('t1', at)).toEqual({
      kind: 'credits',
      lowBalanceNanos: 50,
      autoRecharge: {
        thresholdNanos: 10,
        amountNanos: 100,
        maxPerPeriod: 2,
        period: { id: '2026-11', endsAt: Date.UTC(2026, 11, 1), of: { period: 'month', timeZone: 'UTC' } },
      },
    })
  })
})

describe('chargesFor', () => {
  it('charges each scope with the amount its kind counts', async () => {
    const policies = [
      requestLimit({ name: 'rpm', scope: 'user', limit: 5, windowMs: 60_000 }),
      tokenLimit({ name: 'tpm', scope: 'tenant', capacity: 1000, refillPerSecond: 10 }),
      spendLimit({ name: 'monthly', scope: 'global', limit: 10_000, period: 'month' }),
      concurrencyLimit({ name: 'conc', scope: 'key', limit: 2 }),
    ]
    const charges = await chargesFor(
      policies,
      { user: 'u9', tenant: 't1', key: 'primary' },
      { costNanos: 700, tokens: 90 },
      at,
    )
    expect(charges.map((c) => [c.scope, c.policy, c.amount])).toEqual([
      ['user:u9', 'rpm', 1],
      ['tenant:t1', 'tpm', 90],
      ['global', 'monthly', 700],
      ['key:primary', 'conc', 1],
    ])
  })
})

describe('denialToError', () => {
  it('maps each kind to its code with retryAfterMs', () => {
    const base = { scope: 'tenant:t1', policy: 'p', limit: 10, remaining: 0, requested: 1 }
    const spend = denialToError({ ...base, kind: 'spend', retryAfterMs: 5000 })
    expect(spend).toMatchObject({ code: 'budget.hard_limit', retryAfterMs: 5000 })
    expect(denialToError({ ...base, kind: 'requests', retryAfterMs: 10 }).code).toBe('rate.requests')
    expect(denialToError({ ...base, kind: 'tokens', retryAfterMs: 10 }).code).toBe('rate.tokens')
    expect(denialToError({ ...base, kind: 'concurrency', retryAfterMs: 10 }).code).toBe('rate.concurrency')
    const exhausted = denialToError({ ...base, kind: 'credits', retryAfterMs: null })
    expect(exhausted).toMatchObject({ code: 'credits.exhausted', retryable: false, retryAfterMs: undefined })
    expect(exhausted.details).toMatchObject({ scope: 'tenant:t1', requested: 1 })
  })
})
