import { describe, expect, it } from 'vitest'
import type { KeyguardErrorCode } from './codes'
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

  it("types keyguard's own money refusals as keyguard's, and only OpenAI's billing as insufficient_quota", () => {
    const typeOf = (code: KeyguardErrorCode) =>
      toOpenAIErrorBody(new KeyguardError({ code, message: 'x' })).error.type
    expect(typeOf('budget.hard_limit')).toBe('keyguard_budget_exceeded')
    expect(typeOf('credits.exhausted')).toBe('keyguard_credits_exhausted')
    expect(typeOf('quota.insufficient')).toBe('insufficient_quota')
    expect(typeOf('quota.spend_limit')).toBe('insufficient_quota')
  })
})
