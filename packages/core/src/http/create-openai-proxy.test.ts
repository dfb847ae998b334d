import { createMockOpenAI, exampleMockKey } from '@keyguard/testing'
import { describe, expect, it } from 'vitest'
import { createKeyguard } from '../guard/create-keyguard'
import { createOpenAIProxy } from './create-openai-proxy'

const silent = { warn() {}, error() {} }
const auth = { authorization: 'Bearer kg-acme', 'content-type': 'application/json' }
const body = JSON.stringify({
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: 'hi' }],
  max_tokens: 50,
})

function setup() {
  const mock = createMockOpenAI({ validKeys: [exampleMockKey] })
  const guard = createKeyguard({ key: exampleMockKey, upstream: { fetch: mock.fetch }, logger: silent })
  const proxy = createOpenAIProxy({ keys: { 'kg-acme': { tenant: 'acme' } }, maxBodyBytes: 1000 })
  return {
    mock,
    send: (path: string, init: RequestInit) => proxy(new Request(`http://app.test${path}`, init), guard),
  }
}

describe('createOpenAIProxy', () => {
  it('serves a call under any prefix and keeps the operator account headers from the caller', async () => {
    const { send, mock } = setup()
    const response = await send('/api/openai/v1/chat/completions', { method: 'POST', headers: auth, body })
    expect(response.status).toBe(200)
    expect(mock.requests[0]?.path).toBe('/v1/chat/completions')
    expect(
      [...response.headers.keys()].filter((name) => /x-ratelimit|openai-organization/.test(name)),
    ).toEqual([])
    expect(response.headers.get('x-request-id')).toBeTruthy()
  })

  it('lists every problem in its options at construction', () => {
    expect(() => createOpenAIProxy({ keys: undefined as never, maxBodyBytes: -1 })).toThrow(
      expect.objectContaining({
        code: 'config.invalid',
        problems: [
          expect.objectContaining({ path: 'keys' }),
          expect.objectContaining({ path: 'maxBodyBytes' }),
        ],
      }),
    )
  })

  it('answers a path outside /v1 with 404 and sends nothing upstream', async () => {
    const { send, mock } = setup()
    const response = await send('/admin', { method: 'POST', headers: auth, body })
    expect(response.status).toBe(404)
    expect(mock.requests).toHaveLength(0)
  })

  it('refuses a declared body over the limit before reading it', async () => {
    const { send } = setup()
    const response = await send('/v1/chat/completions', {
      method: 'POST',
      headers: { ...auth, 'content-length': '5000' },
      body: 'x'.repeat(5000),
    })
    expect(response.status).toBe(413)
    expect(await response.json()).toMatchObject({ error: { code: 'request.body_too_large' } })
  })
})
