import { describe, expect, it } from 'vitest'
import { errorCodeTable, keyguardErrorCodes } from './codes'
import { errorResponse } from './error-response'
import { KeyguardError } from './keyguard-error'
import { toProblemJson } from './problem-json'

interface AnsweredBody {
  status: number
  code: string
  retryable: boolean
  retryAfter?: number
  error?: { code: string; type: string }
}

describe('errorResponse', () => {
  it('answers problem+json with the status, Retry-After and no operator hint', async () => {
    const error = new KeyguardError({
      code: 'budget.hard_limit',
      message: 'tenant acme spent $10 of $10',
      retryAfterMs: 1500,
    })
    const response = errorResponse(error)
    expect(response.status).toBe(402)
    expect(response.headers.get('content-type')).toBe('application/problem+json')
    expect(response.headers.get('retry-after')).toBe('2')
    expect(response.headers.get('retry-after-ms')).toBe('1500')
    const text = await response.text()
    expect(JSON.parse(text)).toMatchObject({ code: 'budget.hard_limit', status: 402, retryAfter: 2 })
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

  it('agrees with its error on every code: status, code, retry and wait, in body and headers alike', async () => {
    const waits = [undefined, 0, 99.2, 1000, 60_000, 60_001, 2_592_000_000]
    for (const code of keyguardErrorCodes) {
      for (const wait of waits) {
        const error = new KeyguardError({
          code,
          message: 'x',
          ...(wait === undefined ? {} : { retryAfterMs: wait }),
        })
        const expectedRetry = errorCodeTable[code].retryable && (wait === undefined || wait <= 60_000)
        expect(error.retryable, `${code} after ${wait}`).toBe(expectedRetry)
        for (const format of ['problem', 'openai'] as const) {
          for (const status of [undefined, 401]) {
            const response = errorResponse(error, { format, ...(status === undefined ? {} : { status }) })
            const body = (await response.json()) as AnsweredBody
            const where = `${code} after ${wait} as ${format} ${status ?? ''}`
            expect(response.status, where).toBe(status ?? error.clientStatus)
            expect(body.status, where).toBe(response.status)
            expect(body.code, where).toBe(code)
            expect(response.headers.get('x-keyguard-error-code'), where).toBe(code)
            expect(response.headers.get('x-should-retry'), where).toBe(String(error.retryable))
            expect(body.retryable, where).toBe(error.retryable)
            const { error: _openai, ...problem } = body
            expect(problem, where).toEqual({ ...toProblemJson(error), status: response.status })
            if (error.retryAfterMs === undefined) {
              expect(response.headers.get('retry-after-ms'), where).toBeNull()
              expect(response.headers.get('retry-after'), where).toBeNull()
              expect(body.retryAfter, where).toBeUndefined()
            } else {
              expect(Number.isInteger(error.retryAfterMs), where).toBe(true)
              expect(error.retryAfterMs, where).toBe(Math.ceil(wait as number))
              expect(response.headers.get('retry-after-ms'), where).toBe(String(error.retryAfterMs))
              const seconds = Math.ceil(error.retryAfterMs / 1000)
              expect(response.headers.get('retry-after'), where).toBe(String(seconds))
              expect(body.retryAfter, where).toBe(seconds)
            }
            if (format === 'openai') {
              expect(body.error?.code, where).toBe(code)
              // OpenAI's own quota type only for OpenAI's own quota: a local refusal says it is keyguard's
              if (!code.startsWith('quota.')) expect(body.error?.type, where).not.toBe('insufficient_quota')
            }
          }
        }
      }
    }
  })
})
