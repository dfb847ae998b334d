import { createKeyguard } from '@keyguard/core'
import { createMockOpenAI, exampleMockKey } from '@keyguard/testing'
import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { openaiProxy } from './openai-proxy'

describe('openaiProxy', () => {
  it('refuses with 400 a body that a middleware read past c.req, and sends nothing upstream', async () => {
    const mock = createMockOpenAI({ validKeys: [exampleMockKey] })
    const guard = createKeyguard({
      key: exampleMockKey,
      upstream: { fetch: mock.fetch },
      logger: { warn() {}, error() {} },
    })
    const app = new Hono()
    app.use('/v1/*', async (c, next) => {
      await c.req.raw.text() // read from the raw Request: Hono keeps no copy
      await next()
    })
    app.all('/v1/*', openaiProxy({ guard, keys: { 'kg-acme-test-key': { tenant: 'acme' } } }))
    const response = await app.request('/v1/chat/completions', {
      method: 'POST',
      headers: { authorization: 'Bearer kg-acme-test-key', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
    })
    expect(response.status).toBe(400)
    expect(await response.json()).toMatchObject({ error: { code: 'request.invalid' } })
    expect(mock.requests).toHaveLength(0)
  })
})
