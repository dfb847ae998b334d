import { createKeyguard, requestLimit } from '@keyguard/core'
import { createMockOpenAI, exampleMockKey } from '@keyguard/testing'
import { Hono } from 'hono'
import { contextStorage, getContext } from 'hono/context-storage'
import OpenAI from 'openai'
import { describe, expect, it } from 'vitest'
import { keyguardErrorHandler } from './error-handler'
import { keyguard } from './keyguard'
import { keyguardFetch } from './keyguard-fetch'

const body = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'hi' }], max_tokens: 5 }

describe('keyguardFetch', () => {
  it('lets one OpenAI client serve every request, each call under its own request’s scope', async () => {
    const mock = createMockOpenAI({ validKeys: [exampleMockKey] })
    const guard = createKeyguard({
      key: exampleMockKey,
      upstream: { fetch: mock.fetch },
      logger: { warn() {}, error() {} },
      limits: [requestLimit({ scope: 'tenant', limit: 1, windowMs: 60_000 })],
    })
    const openai = new OpenAI({ apiKey: 'unused', fetch: keyguardFetch(getContext), maxRetries: 0 })
    const app = new Hono()
    app.use(contextStorage())
    app.use(
      keyguard({
        guard,
        scope: (c) => ({ tenant: c.req.header('x-tenant') }),
        ignoreWarnings: ['no-wait-until'],
      }),
    )
    app.onError(keyguardErrorHandler())
    app.post('/chat', async (c) => c.json(await openai.chat.completions.create(body)))
    const call = (tenant: string) => app.request('/chat', { method: 'POST', headers: { 'x-tenant': tenant } })
    const [first, second] = await Promise.all([call('a'), call('b')])
    expect([first.status, second.status]).toEqual([200, 200])
    // each tenant's one request this minute is spent, by its own call
    expect((await call('a')).status).toBe(429)
    expect((await call('b')).status).toBe(429)
    expect(mock.requests).toHaveLength(2)
  })

  it('refuses a call made outside a request keyguard() guards, sending nothing', async () => {
    const mock = createMockOpenAI({ validKeys: [exampleMockKey] })
    const openai = new OpenAI({ apiKey: 'unused', fetch: keyguardFetch(getContext), maxRetries: 0 })
    await expect(openai.chat.completions.create(body)).rejects.toMatchObject({
      status: 500,
      code: 'scope.missing',
    })
    expect(mock.requests).toHaveLength(0)
  })
})
