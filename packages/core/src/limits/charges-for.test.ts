import { describe, expect, it } from 'vitest'
import { isKeyguardError, type KeyguardError } from '../errors/keyguard-error'
import { chargesFor } from './charges-for'
import type { RequestScope } from './limit-policy'
import { requestLimit } from './request-limit'
import { spendLimit } from './spend-limit'

const now = Date.parse('2026-11-28T12:00:00Z')
const amount = { costNanos: 1_000, tokens: 100 }
const tenantSpend = spendLimit({ name: 'monthly', scope: 'tenant', limit: 1, period: 'month' })

const refusal = async (promise: Promise<unknown>): Promise<KeyguardError> => {
  const error = await promise.then(
    () => undefined,
    (rejection: unknown) => rejection,
  )
  if (!isKeyguardError(error)) throw new Error(`expected a KeyguardError, got ${String(error)}`)
  return error
}

describe('chargesFor', () => {
  it.each([
    ['a missing key', {}],
    ['undefined', { tenant: undefined }],
    ['an empty string', { tenant: '' }],
    ['only whitespace', { tenant: ' \t ' }],
    ['a number', { tenant: 42 as unknown as string }],
    ['a misspelt kind', { tennant: 't1' }],
  ])(
    'refuses a scope whose tenant is %s with scope.missing, naming the policy and the kind',
    async (_, scope) => {
      const error = await refusal(chargesFor([tenantSpend], scope as RequestScope, amount, now))
      expect(error.code).toBe('scope.missing')
      expect(error.clientStatus).toBe(500)
      expect(error.retryable).toBe(false)
      expect(error.message).toContain("'monthly'")
      expect(error.message).toContain('tenant')
      expect(error.operatorHint).toMatch(/whenMissing/)
      expect(error.userMessage).not.toMatch(/tenant|monthly/)
      expect(error.details).toMatchObject({ missing: [{ policy: 'monthly', scope: 'tenant' }] })
    },
  )

  it('lists every limit a scope cannot be charged for in one error', async () => {
    const perUser = requestLimit({ name: 'rpm', scope: 'user', limit: 5, windowMs: 60_000 })
    const error = await refusal(chargesFor([tenantSpend, perUser], {}, amount, now))
    expect(error.problems.map((problem) => problem.path)).toEqual(['tenant', 'user'])
  })

  it("skips a limit whose scope is absent only when it says whenMissing: 'skip'", async () => {
    const optional = spendLimit({ scope: 'user', limit: 1, period: 'day', whenMissing: 'skip' })
    expect(await chargesFor([optional], {}, amount, now)).toEqual([])
    expect(await chargesFor([optional], { user: 'u1' }, amount, now)).toHaveLength(1)
  })

  it('charges a request without the scope to the id whenMissing names', async () => {
    const anonymous = requestLimit({
      scope: 'user',
      limit: 5,
      windowMs: 1000,
      whenMissing: { id: 'anonymous' },
    })
    const [charge] = await chargesFor([anonymous], { user: '' }, amount, now)
    expect(charge?.scope).toBe('user:anonymous')
  })

  it('reads a scope it cannot charge as having no such limit when asked for reading only', async () => {
    const charges = await chargesFor([tenantSpend], {}, amount, now, { missing: 'skip' })
    expect(charges).toEqual([])
  })
})
