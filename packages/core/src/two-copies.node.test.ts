import { createRequire } from 'node:module'
import { createMockOpenAI } from '@keyguard/testing'
import { describe, expect, it } from 'vitest'

// Both builds of this package loaded in one process, as an app gets them when one dependency
// `require`s keyguard and another `import`s it: every brand one copy sets, the other must see.
// Runs against dist (turbo builds core before its tests).
type Core = typeof import('./index') & typeof import('./adapter')
const esm = {
  ...(await import(new URL('../dist/index.js', import.meta.url).href)),
  ...(await import(new URL('../dist/adapter.js', import.meta.url).href)),
} as Core
const require = createRequire(import.meta.url)
const cjs = { ...require('../dist/index.cjs'), ...require('../dist/adapter.cjs') } as Core
const key = 'sk-proj-TwoCopiesTestKey0123456789abcdefghijklmnopqrstuv'

describe('two copies of @keyguard/core', () => {
  it('are really two copies', () => {
    expect(esm.Secret).not.toBe(cjs.Secret)
  })

  it('count tokens exactly in both builds, with no fallback warning', async () => {
    const body = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi there' }] }
    for (const core of [esm, cjs]) {
      const warnings: string[] = []
      const logger = { warn: (message: string) => warnings.push(message), error: () => {} }
      const estimate = await core.estimateRequest('/v1/chat/completions', body, { logger })
      expect(warnings).toEqual([])
      expect(estimate).toMatchObject({ exact: true, inputTokens: 9 })
    }
  })

  it('accept a Secret from the other copy, as a key and to reveal and compare', async () => {
    const secret = esm.Secret.from(key, 'OPENAI_API_KEY')
    expect(cjs.Secret.isSecret(secret)).toBe(true)
    expect(secret instanceof cjs.Secret).toBe(true)
    expect(cjs.Secret.from(secret)).toBe(secret)
    expect(cjs.parseApiKey(secret).secret.reveal()).toBe(key)
    expect(await cjs.Secret.from(key).equals(secret)).toBe(true)
    expect(cjs.keyFingerprint(secret)).toBe(esm.keyFingerprint(key))
    expect(() => cjs.createKeyguard({ key: secret })).not.toThrow()
  })

  it('find the result of a call guarded by the other copy', async () => {
    const mock = createMockOpenAI({ validKeys: [key] })
    const guard = esm.createKeyguard({ key, upstream: { fetch: mock.fetch } })
    const response = await guard.fetch('https://api.openai.com/v1/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'gpt-4o-mini',
        max_tokens: 5,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    })
    expect(cjs.keyguardResult(response)).toBe(esm.keyguardResult(response))
    expect(cjs.keyguardResult(response)?.estimate?.inputTokens).toBeGreaterThan(0)
    await response.text()
  })

  it('find the request guarded by the other copy', () => {
    const owner = {}
    const guarded = esm.guardRequest(esm.createKeyguard({ key }), { tenant: 't1' }, {}, owner)
    expect(cjs.guardedRequestOf(owner)).toBe(guarded)
  })

  it('recognise each other’s errors', () => {
    const error = new esm.KeyguardError({ code: 'budget.hard_limit', message: 'x' })
    expect(cjs.isKeyguardError(error)).toBe(true)
  })
})
