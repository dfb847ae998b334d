import { KeyguardError } from '@keyguard/core'
import { Hono } from 'hono'
import { bearerAuth } from 'hono/bearer-auth'
import { describe, expect, it } from 'vitest'
import { keyguardErrorHandler } from './error-handler'

function appThrowing(error: unknown, logs: string[] = []) {
  const app = new Hono()
  app.get('/chat', () => {
    throw error
  })
  app.onError(
    keyguardErrorHandler({
      logger: { warn: (message) => logs.push(message), error: () => {} },
      fallback: (_error, c) => c.text('fallback', 500),
    }),
  )
  return app
}

describe('keyguardErrorHandler', () => {
  it('answers a KeyguardError with problem+json, its status and Retry-After', async () => {
    const logs: string[] = []
    const error = new KeyguardError({
      code: 'credits.exhausted',
      message: 'user u9 has $0.00',
      retryAfterMs: 0,
    })
    const response = await appThrowing(error, logs).request('/chat')
    expect(response.status).toBe(402)
    expect(response.headers.get('content-type')).toBe('application/problem+json')
    expect(response.headers.get('retry-after')).toBe('0')
    expect(await response.json()).toMatchObject({ code: 'credits.exhausted', status: 402 })
    expect(logs).toEqual(['keyguard: credits.exhausted: user u9 has $0.00'])
  })

  it('keeps the operator hint away from the client', async () => {
    const error = new KeyguardError({
      code: 'auth.invalid_key',
      message: 'OPENAI_API_KEY sk-proj…Wq8A was revoked',
    })
    const response = await appThrowing(error).request('/chat')
    expect(response.status).toBe(503)
    expect(await response.text()).not.toContain('Wq8A')
  })

  it('answers in OpenAI error format with x-should-retry when asked', async () => {
    const app = new Hono()
    app.get('/chat', () => {
      throw new KeyguardError({
        code: 'rate.tokens',
        message: 'tenant t1 over its token bucket',
        retryAfterMs: 800,
      })
    })
    app.onError(keyguardErrorHandler({ format: 'openai' }))
    const response = await app.request('/chat')
    expect(response.status).toBe(429)
    expect(response.headers.get('x-should-retry')).toBe('true')
    expect(response.headers.get('retry-after-ms')).toBe('800')
    expect(await response.json()).toMatchObject({ error: { code: 'rate.tokens', type: 'tokens' } })
  })

  it('hands other errors to the fallback', async () => {
    const response = await appThrowing(new Error('boom')).request('/chat')
    expect(response.status).toBe(500)
    expect(await response.text()).toBe('fallback')
  })

  it("answers an auth middleware's HTTPException with its own response when no fallback is set", async () => {
    const app = new Hono()
    app.use('/chat', bearerAuth({ token: 'demo-acme' }))
    app.get('/chat', (c) => c.text('ok'))
    app.onError(keyguardErrorHandler())
    const response = await app.request('/chat')
    expect(response.status).toBe(401)
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/)
  })
})
