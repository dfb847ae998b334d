import { describe, expectTypeOf, it } from 'vitest'
import type { LimitPolicy, RequestScope } from '../limits/limit-policy'
import { requestLimit } from '../limits/request-limit'
import { spendLimit } from '../limits/spend-limit'
import { createKeyguard, type Keyguard } from './create-keyguard'

const key = 'sk-proj-example'

describe('createKeyguard', () => {
  it('types scope kinds from the configured limits, so a misspelt kind does not compile', () => {
    const guard = createKeyguard({
      key,
      limits: [
        spendLimit({ scope: 'tenant', limit: 1, period: 'month' }),
        requestLimit({ scope: 'workspace', limit: 1, windowMs: 1000 }),
      ],
    })
    guard.for({ tenant: 't1', workspace: 'w1', user: 'u1', key: 'default', model: 'gpt-4o' })
    // @ts-expect-error: `tennant` is no kind of these limits
    guard.for({ tennant: 't1' })
    // @ts-expect-error: nor is `team`
    guard.for({ team: 'acme' }).usage()
    createKeyguard({
      key,
      limits: [spendLimit({ scope: 'tenant', limit: 1, period: 'month' })],
      // @ts-expect-error: the base scope is checked too
      scope: { tennant: 't1' },
    })
    expectTypeOf(guard.for({ tenant: 't1' })).toEqualTypeOf<Keyguard<'tenant' | 'workspace'>>()
  })

  it('keeps a guard assignable where any Keyguard is taken, and takes a scope built at run time', () => {
    const guard = createKeyguard({
      key,
      limits: [spendLimit({ scope: 'tenant', limit: 1, period: 'month' })],
    })
    expectTypeOf(guard).toExtend<Keyguard>()
    const fromHeaders: RequestScope = { tenant: 't1' }
    guard.for(fromHeaders)
  })

  it('accepts any kind when the limits are typed only as LimitPolicy', () => {
    const limits: LimitPolicy[] = []
    createKeyguard({ key, limits }).for({ anything: 'x' })
  })
})
