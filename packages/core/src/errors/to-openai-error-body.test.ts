import { describe, expect, it } from 'vitest'
import { KeyguardError } from './keyguard-error'
import { toOpenAIErrorBody } from './to-openai-error-body'

describe('toOpenAIErrorBody', () => {
  it('gives OpenAI clients the user message and keyguard code, never the operator hint', () => {
    const error = new KeyguardError({
      code: 'quota.insufficient',
      message: 'OpenAI error (429 insufficient_quota)',
      operatorHint: 'set up billing at platform.openai.com',
      upstream: { status: 429, code: 'insufficient_quota', param: 'x' },
    })
    const body = toOpenAIErrorBody(error)
    expect(body).toEqual({
      error: {
        message: error.userMessage,
        type: 'insufficient_quota',
        code: 'quota.insufficient',
        param: null,
      },
    })
    expect(JSON.stringify(body)).not.toContain('billing')
  })

  it('types local rate limits as OpenAI does and keeps the param of an invalid request', () => {
    expect(toOpenAIErrorBody(new KeyguardError({ code: 'rate.tokens', message: 'x' })).error.type).toBe(
      'tokens',
    )
    expect(toOpenAIErrorBody(new KeyguardError({ code: 'rate.requests', message: 'x' })).error.type).toBe(
      'requests',
    )
    const invalid = new KeyguardError({
      code: 'request.context_length',
      message: 'x',
      upstream: { param: 'messages' },
    })
    expect(toOpenAIErrorBody(invalid).error).toMatchObject({
      type: 'invalid_request_error',
      param: 'messages',
    })
  })

  it('types a spent budget or credit balance as a quota, not a rate limit', () => {
    for (const code of ['budget.hard_limit', 'credits.exhausted', 'quota.insufficient'] as const) {
      expect(toOpenAIErrorBody(new KeyguardError({ code, message: 'x' })).error.type).toBe(
        'insufficient_quota',
      )
    }
  })
})
