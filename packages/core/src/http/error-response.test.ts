import { describe, expect, it } from 'vitest'
import { KeyguardError } from '../errors/keyguard-error'
import { errorResponse } from './error-response'

describe('errorResponse', () => {
  it('answers problem+json with the status, Retry-After and no operator hint', async () => {
    const error = new KeyguardError({
      code: 'budget.hard_limit',
      message: 'tenant acme spent $10 of $10',
      retryAfterMs: 1500,
    })
    const response = errorResponse(error)
    expect(response.status).toBe(429)
    expect(response.headers.get('content-type')).toBe('application/problem+json')
    expect(response.headers.get('retry-after')).toBe('2')
    expect(response.headers.get('retry-after-ms')).toBe('1500')
    const text = await response.text()
    expect(JSON.parse(text)).toMatchObject({ code: 'budget.hard_limit', status: 429, retryAfter: 2 })
    expect(text).not.toContain('acme')
  })

  it("answers problem details that OpenAI clients also read, with OpenAI's error member", async () => {
    const error = new KeyguardError({ code: 'client.unauthorized', message: 'no virtual key matched' })
    const response = errorResponse(error, { format: 'openai' })
    expect(response.status).toBe(401)
    expect(response.headers.get('content-type')).toBe('application/problem+json')
    expect(response.headers.get('x-should-retry')).toBe('false')
    const body = (await response.json()) as { status: number; code: string; error: { message: string } }
    expect(body).toMatchObject({ status: 401, code: 'client.unauthorized' })
    expect(body.error.message).toBe('Missing or invalid API key.')
  })

  it('tells clients to retry only what can succeed within a minute', () => {
    const soon = new KeyguardError({ code: 'rate.requests', message: 'x', retryAfterMs: 2000 })
    const late = new KeyguardError({ code: 'rate.requests', message: 'x', retryAfterMs: 3_600_000 })
    expect(errorResponse(soon).headers.get('x-should-retry')).toBe('true')
    expect(errorResponse(late).headers.get('x-should-retry')).toBe('false')
  })
})
