import { describe, expect, it } from 'vitest'
import { KeyguardError } from './keyguard-error'
import { toProblemJson } from './problem-json'

describe('toProblemJson', () => {
  it('shows the client the user message and retry time, never the operator hint', () => {
    const error = new KeyguardError({
      code: 'quota.insufficient',
      message: 'OpenAI says the project has no credits: add billing at platform.openai.com',
      retryAfterMs: 1500,
    })
    const body = toProblemJson(error)
    expect(body).toEqual({
      type: 'https://keyguard.dev/errors/quota.insufficient',
      title: 'quota.insufficient',
      status: 503,
      detail: error.userMessage,
      code: 'quota.insufficient',
      retryable: false,
      retryAfter: 2,
    })
    expect(JSON.stringify(body)).not.toContain('billing')
  })

  it('adds a human reading of a long wait to the detail, beside retryAfter in seconds', () => {
    const error = new KeyguardError({
      code: 'budget.hard_limit',
      message: "spend limit 'monthly' for tenant:acme",
      retryAfterMs: 2_370_779_000,
    })
    const body = toProblemJson(error)
    expect(body.retryAfter).toBe(2_370_779)
    expect(body.detail).toBe(`${error.userMessage} Try again in 27 days.`)
  })

  it('leaves a short wait to the client’s own retry', () => {
    const error = new KeyguardError({ code: 'rate.requests', message: 'rpm', retryAfterMs: 1_500 })
    expect(toProblemJson(error).detail).toBe(error.userMessage)
  })
})
