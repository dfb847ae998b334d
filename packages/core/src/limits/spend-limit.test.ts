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
      period: { id: '2026-11', endsAt: Date.UTC(2026, 11, 1) },
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
        expect(error.problems.map((p) => p.path).sort()).toEqual(['limit', 'softAt.0'])
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
