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
})
