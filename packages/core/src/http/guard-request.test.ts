import { createMockOpenAI, exampleMockKey } from '@keyguard/testing'
import OpenAI from 'openai'
import { describe, expect, it } from 'vitest'
import { createKeyguard } from '../guard/create-keyguard'
import { requestLimit } from '../limits/request-limit'
import { guardRequest, toKeyguard } from './guard-request'

const silent = { warn() {}, error() {} }
const now = Date.UTC(2026, 10, 28, 12, 0, 0)
const chat = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'hi' }], max_tokens: 100 }

function setup() {
  const mock = createMockOpenAI({ validKeys: [exampleMockKey] })
  const guard = createKeyguard({
    key: exampleMockKey,
    upstream: { fetch: mock.fetch },
    logger: silent,
    now: () => now,
    limits: [requestLimit({ name: 'rpm', scope: 'tenant', limit: 1, windowMs: 60_000 })],
  })
  return { mock, guard }
}

describe('guardRequest', () => {
  it('gives RateLimit headers and, once a JSON call has settled, its cost', async () => {
    const { guard } = setup()
    const request = guardRequest(guard, { tenant: 'acme' }, { costHeaders: true })
    expect(request.headers()).toEqual({})
    const openai = new OpenAI({ apiKey: 'unused', fetch: request.guard.fetch, maxRetries: 0 })
    await openai.chat.completions.create(chat)
    await request.costReady()
    const headers = request.headers()
    expect(headers).toMatchObject({ ratelimit: '"rpm";r=0;t=60', 'ratelimit-policy': '"rpm";q=1' })
    expect(Number(headers['x-keyguard-cost'])).toBeGreaterThan(0)
    expect(Number(headers['x-keyguard-cost'])).toBeLessThanOrEqual(Number(headers['x-keyguard-estimate']))
    expect(request.guard.scope).toEqual({ tenant: 'acme' })
  })

  it('remembers the refusal behind a failed call and adds no cost for it', async () => {
    const { guard, mock } = setup()
    await guardRequest(guard, { tenant: 'acme' }).guard.fetch('https://api.openai.com/v1/chat/completions', {
      method: 'POST',
      body: JSON.stringify(chat),
    })
    const request = guardRequest(guard, { tenant: 'acme' }, { costHeaders: true })
    const response = await request.guard.fetch('https://api.openai.com/v1/chat/completions', {
      method: 'POST',
      body: JSON.stringify(chat),
    })
    expect(response.status).toBe(429)
    expect(request.error?.code).toBe('rate.requests')
    expect(request.headers()).not.toHaveProperty('x-keyguard-cost')
    expect(mock.requests).toHaveLength(1)
  })

  it('refuses a request without a scope with scope.missing', () => {
    expect(() => guardRequest(setup().guard, undefined)).toThrow(
      expect.objectContaining({ code: 'scope.missing' }),
    )
  })
})

describe('toKeyguard', () => {
  it('keeps a guard as it is and builds one from options', () => {
    const { guard } = setup()
    expect(toKeyguard(guard)).toBe(guard)
    expect(typeof toKeyguard({ key: exampleMockKey, logger: silent }).fetch).toBe('function')
  })
})
