import { createKeyguard, requestLimit } from '@keyguard/core'
import { createMockOpenAI, exampleMockKey } from '@keyguard/testing'
import express from 'express'
import OpenAI from 'openai'
import { describe, expect, it } from 'vitest'
import { listen } from './__fixtures__/listen'
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
    const openai = new OpenAI({ apiKey: 'unused', fetch: keyguardFetch(), maxRetries: 0 })
    const app = express()
    app.use(keyguard({ guard, scope: (req) => ({ tenant: req.get('x-tenant') }) }))
    app.post('/chat', async (_req, res, next) => {
      try {
        res.json(await openai.chat.completions.create(body))
      } catch (error) {
        next(error)
      }
    })
    app.use(keyguardErrorHandler())
    const server = await listen(app)
    try {
      const call = (tenant: string) =>
        fetch(`${server.origin}/chat`, { method: 'POST', headers: { 'x-tenant': tenant } })
      const [first, second] = await Promise.all([call('a'), call('b')])
      expect([first.status, second.status]).toEqual([200, 200])
      // tenant a's one request this minute is spent; tenant b's is too, by its own call
      expect((await call('a')).status).toBe(429)
      expect((await call('b')).status).toBe(429)
      expect(mock.requests).toHaveLength(2)
    } finally {
      await server.close()
    }
  })

  it('refuses a call made outside a request keyguard() guards, sending nothing', async () => {
    const mock = createMockOpenAI({ validKeys: [exampleMockKey] })
    const openai = new OpenAI({ apiKey: 'unused', fetch: keyguardFetch(), maxRetries: 0 })
    await expect(openai.chat.completions.create(body)).rejects.toMatchObject({
      status: 500,
      code: 'scope.missing',
    })
    expect(mock.requests).toHaveLength(0)
  })
})
