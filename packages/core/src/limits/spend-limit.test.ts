import { describe, expect, it } from 'vitest'
import { isKeyguardError } from '../errors/keyguard-error'
import { spendLimit } from './spend-limit'

const at = Date.UTC(2026, 10, 28, 12)

describe('spendLimit', () => {
  it('builds a hard rule for the current month with soft thresholds', async () => {
    const policy = spendLimit({ scope: 'tenant', limit: 1000, period: 'month', softAt: [0.8, 0.5] })
    expect(policy).toMatchObject({ name: 'spend-month', kind: 'spend', scope: 'tenant' })
    expect(await policy.ruleFor('t1', at)).toEqual({
      kind: 'spend',
      limitNanos: 1000,
      period: {
        id: '2026-11',
        endsAt: Date.UTC(2026, 11, 1),
        of: { period: 'month', timeZone: 'UTC', anchorDay: 1 },
      },
      softNanos: [500, 800],
    })
  })

  it('never blocks in soft mode and notifies at the limit', async () => {
    const policy = spendLimit({ scope: 'user', limit: 1000, period: 'day', mode: 'soft', softAt: [0.5] })
    expect(await policy.ruleFor('u1', at)).toMatchObject({ limitNanos: null, softNanos: [500, 1000] })
  })

  it('takes per-scope limits from limitFor, then overrides, then limit', async () => {
    const policy = spendLimit({
      scope: 'tenant',
      limit: 10,
      period: 'month',
      overrides: { b: 20 },
      limitFor: async (id) => (id === 'a' ? 100 : undefined),
    })
    expect((await policy.ruleFor('a', at)).kind === 'spend' && (await policy.ruleFor('a', at))).toMatchObject(
      { limitNanos: 100 },
    )
    expect(await policy.ruleFor('b', at)).toMatchObject({ limitNanos: 20 })
    expect(await policy.ruleFor('c', at)).toMatchObject({ limitNanos: 10 })
  })

  it('lists every invalid option in one config.invalid error', () => {
    try {
      spendLimit({ scope: 'tenant', limit: -1, period: 'month', timeZone: 'Mars/Olympus', softAt: [1.5] })
      expect.unreachable()
    } catch (error) {
      expect(isKeyguardError(error) && error.code).toBe('config.invalid')
      if (isKeyguardError(error)) {
        expect(error.problems.map((p) => p.path).sort()).toEqual(['limit', 'softAt[0]', 'timeZone'])
        expect(error.message).toContain('limit is below the minimum (0)')
        expect(error.problems.every((p) => p.fix.length > 0)).toBe(true)
      }
    }
    try {
      spendLimit({ scope: 'tenant', period: 'week', timeZone: 'Mars/Olympus', anchorDay: 3 })
      expect.unreachable()
    } catch (error) {
      expect(isKeyguardError(error) && error.problems.map((p) => p.code)).toEqual([
        'limit_missing',
        'time_zone_unknown',
        'anchor_day_not_month',
      ])
    }
  })
})

describe('spendLimit with memoryStore', () => {
  it('enforces plan tiers per tenant and settles into the month it reserved after a rollover', async () => {
    const { chargesFor } = await import('./charges-for')
    const { memoryStore } = await import('./memory-store')
    const { denialToError } = await import('./denial-to-error')
    let now = Date.UTC(2026, 10, 30, 23, 59, 59)
    const store = memoryStore({ now: () => now })
    const policies = [
      spendLimit({ scope: 'tenant', period: 'month', limitFor: (id) => (id === 'a' ? 100 : 10) }),
    ]
    const reserve = async (tenant: string, id: string, costNanos: number) =>
      store.reserve({
        id,
        leaseMs: 60_000,
        charges: await chargesFor(policies, { tenant }, { costNanos, tokens: 0 }, now),
      })
    expect((await reserve('a', 'a1', 60)).ok).toBe(true)
    expect((await reserve('b', 'b1', 6)).ok).toBe(true)
    const tooBig = await reserve('b', 'b2', 11)
    expect(!tooBig.ok && tooBig.denial.retryAfterMs).toBeNull()
    const denied = await reserve('b', 'b3', 6)
    expect(denied.ok).toBe(false)
    if (!denied.ok) {
      const error = denialToError(denied.denial)
      expect(error).toMatchObject({ code: 'budget.hard_limit', retryAfterMs: 1000 })
    }
    now += 2000 // December
    const settled = await store.settle({ id: 'a1', actual: { costNanos: 70, tokens: 0 } })
    expect(settled.states[0]).toMatchObject({ used: 70, resetAt: Date.UTC(2026, 11, 1) })
    const december = await reserve('a', 'a2', 100)
    expect(december.ok).toBe(true)
  })
})
