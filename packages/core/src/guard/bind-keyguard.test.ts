import { createMockOpenAI, exampleMockKey } from '@keyguard/testing'
import { describe, expect, it } from 'vitest'
import { requestLimit } from '../limits/request-limit'
import { createKeyguard } from './create-keyguard'
import { keyguardResult } from './keyguard-result'

describe('guard.for', () => {
  const mock = createMockOpenAI({ validKeys: [exampleMockKey] })
  const guard = createKeyguard({
    key: exampleMockKey,
    upstream: { fetch: mock.fetch },
    limits: [requestLimit({ scope: 'tenant', limit: 2, windowMs: 60_000 })],
    logger: { warn() {}, error() {} },
  })
  const chat = (fetcher: typeof fetch) =>
    fetcher('https://api.openai.com/v1/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
    })

  it('gives the same guard for the same frozen scope, and a new one for any other', () => {
    const frozen = Object.freeze({ tenant: 't1' })
    const first = guard.for(frozen)
    expect(guard.for(frozen)).toBe(first)
    expect(first.scope).toEqual({ tenant: 't1' })
    const open = { tenant: 't1' }
    expect(guard.for(open)).not.toBe(guard.for(open))
    expect(guard.for(Object.freeze({ tenant: 't1' }))).not.toBe(first)
  })

  it('still refuses a frozen scope with an unknown kind, every time', () => {
    const misspelt = Object.freeze({ tennant: 't1' }) as never
    expect(() => guard.for(misspelt)).toThrow(/tennant/)
    expect(() => guard.for(misspelt)).toThrow(/tennant/)
  })

  it('a guard given again for a frozen scope counts in the same limits', async () => {
    const scope = Object.freeze({ tenant: 'shared' })
    for (const expected of [200, 200, 429]) {
      const response = await chat(guard.for(scope).fetch)
      expect(response.status).toBe(expected)
      await response.arrayBuffer()
      await keyguardResult(response)?.settled
    }
  })
})
