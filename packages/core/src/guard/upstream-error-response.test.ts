import { createMockOpenAI } from '@keyguard/testing'
import { describe, expect, it } from 'vitest'
import { canaryKey, openaiErrorCases } from '../errors/__fixtures__/openai-error-bodies'
import { createKeyguard } from './create-keyguard'
import { keyguardResult } from './keyguard-result'

const chat = JSON.stringify({
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: 'Hi' }],
  max_tokens: 5,
})

function setup() {
  const mock = createMockOpenAI()
  const guard = createKeyguard({ key: canaryKey, upstream: { fetch: mock.fetch, circuitBreaker: false } })
  const post = () =>
    guard.fetch('https://api.openai.com/v1/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: chat,
    })
  return { mock, post }
}

describe('upstreamErrorResponse', () => {
  it("says in its headers what the classified error says: retry or not, and when, whatever OpenAI's headers said", async () => {
    const { mock, post } = setup()
    for (const { name, status, body } of openaiErrorCases) {
      if (status === undefined || typeof body !== 'object') continue
      // OpenAI's own hints, some of which the classification overrules (no retry for a quota error)
      mock.enqueue({
        status,
        body,
        headers: { 'retry-after-ms': '1200', 'retry-after': '2', 'x-should-retry': 'true' },
      })
      const response = await post()
      const error = keyguardResult(response)?.error
      expect(error, name).toBeDefined()
      if (error === undefined) continue
      expect(response.status, name).toBe(status)
      expect(await response.text(), name).not.toContain(canaryKey)
      expect(response.headers.get('x-keyguard-error-code'), name).toBe(error.code)
      expect(response.headers.get('x-should-retry'), name).toBe(String(error.retryable))
      if (error.retryAfterMs === undefined) {
        expect(response.headers.get('retry-after-ms'), name).toBeNull()
        expect(response.headers.get('retry-after'), name).toBeNull()
      } else {
        expect(response.headers.get('retry-after-ms'), name).toBe(String(error.retryAfterMs))
        expect(response.headers.get('retry-after'), name).toBe(String(Math.ceil(error.retryAfterMs / 1000)))
      }
    }
  })

  it('never tells a client to retry what OpenAI said not to retry', async () => {
    const { mock, post } = setup()
    mock.enqueue({
      status: 500,
      body: { error: { message: 'The server had an error', type: 'server_error', param: null, code: null } },
      headers: { 'x-should-retry': 'false' },
    })
    const response = await post()
    expect(keyguardResult(response)?.error).toMatchObject({ code: 'upstream.server_error', retryable: false })
    expect(response.headers.get('x-should-retry')).toBe('false')
  })

  it('does not tell a client to sit through a wait longer than a minute', async () => {
    const { mock, post } = setup()
    mock.enqueue({
      status: 429,
      body: {
        error: {
          message:
            'Rate limit reached for gpt-4o-mini on requests per day (RPD): Limit 10000, Used 10000, Requested 1. Please try again in 6m0s.',
          type: 'requests',
          param: null,
          code: 'rate_limit_exceeded',
        },
      },
      headers: { 'retry-after-ms': '360000', 'retry-after': '360' },
    })
    const response = await post()
    expect(keyguardResult(response)?.error).toMatchObject({
      code: 'rate.upstream',
      retryAfterMs: 360_000,
      retryable: false,
    })
    expect(response.headers.get('x-should-retry')).toBe('false')
    expect(response.headers.get('retry-after')).toBe('360')
  })
})
