import { describe, expect, it, vi } from 'vitest'
import { canaryKey, openaiErrorCases } from './__fixtures__/openai-error-bodies'
import { classifyOpenAIError } from './classify-openai-error'
import { openaiErrorRules } from './openai-error-rules'

const quiet = { onUnknownCode: () => {} }
const bodyOf = (name: string) => {
  const found = openaiErrorCases.find((entry) => entry.name === name)
  if (found === undefined) throw new Error(`no fixture named ${name}`)
  return found.body
}

describe('classifyOpenAIError', () => {
  for (const { name, status, body, expected, retryable } of openaiErrorCases) {
    it(`classifies ${name} as ${expected}`, () => {
      const error = classifyOpenAIError({ status, body }, quiet)
      expect(error.code).toBe(expected)
      expect(error.retryable).toBe(retryable)
    })
  }

  it('reads a fetch Response with its body, headers and request id', async () => {
    const response = new Response(JSON.stringify(bodyOf('429 rate_limit_exceeded on tokens')), {
      status: 429,
      headers: { 'x-request-id': 'req_123', 'retry-after-ms': '1400', 'content-type': 'application/json' },
    })
    const error = await classifyOpenAIError(response, quiet)
    expect(error.code).toBe('rate.upstream')
    expect(error.retryAfterMs).toBe(1400)
    expect(error.upstream).toEqual({
      status: 429,
      type: 'tokens',
      code: 'rate_limit_exceeded',
      requestId: 'req_123',
    })
    expect(error.clientStatus).toBe(503)
  })

  it('takes the retry time from the message when headers have none', () => {
    const error = classifyOpenAIError(
      { status: 429, body: bodyOf('429 rate_limit_exceeded on tokens') },
      quiet,
    )
    expect(error.retryAfterMs).toBe(1400)
  })

  it('reads an openai-node APIError', () => {
    const apiError = Object.assign(new Error('429 You exceeded your current quota'), {
      status: 429,
      error: {
        message: 'You exceeded your current quota',
        type: 'insufficient_quota',
        code: 'insufficient_quota',
        param: null,
      },
      code: 'insufficient_quota',
      type: 'insufficient_quota',
      param: null,
      headers: new Headers({ 'x-request-id': 'req_9' }),
      requestID: 'req_9',
    })
    const error = classifyOpenAIError(apiError, quiet)
    expect(error.code).toBe('quota.insufficient')
    expect(error.retryable).toBe(false)
    expect(error.retryAfterMs).toBeUndefined()
    expect(error.upstream?.requestId).toBe('req_9')
  })

  it('tells a timeout from a connection failure', () => {
    class APIConnectionTimeoutError extends Error {}
    class APIConnectionError extends Error {}
    expect(classifyOpenAIError(new APIConnectionTimeoutError('Request timed out.')).code).toBe(
      'upstream.timeout',
    )
    expect(classifyOpenAIError(new APIConnectionError('Connection error.')).code).toBe('upstream.connection')
    expect(classifyOpenAIError(new TypeError('fetch failed')).code).toBe('upstream.connection')
  })

  it('gives an unknown code a safe default from its status and warns once per code', () => {
    const onUnknownCode = vi.fn()
    const body = {
      error: {
        message: 'Something new.',
        type: 'invalid_request_error',
        param: null,
        code: 'brand_new_thing',
      },
    }
    expect(classifyOpenAIError({ status: 400, body }, { onUnknownCode }).code).toBe('request.invalid')
    expect(classifyOpenAIError({ status: 400, body }, { onUnknownCode }).code).toBe('request.invalid')
    expect(classifyOpenAIError({ status: 500, body }, { onUnknownCode }).code).toBe('upstream.server_error')
    expect(onUnknownCode).toHaveBeenCalledTimes(1)
    expect(onUnknownCode).toHaveBeenCalledWith('brand_new_thing')
  })

  it('does not warn about codes the table knows', () => {
    const onUnknownCode = vi.fn()
    for (const { status, body } of openaiErrorCases) classifyOpenAIError({ status, body }, { onUnknownCode })
    expect(onUnknownCode).not.toHaveBeenCalled()
  })

  it('answers key and billing problems with 503 in operator-key mode, and blames the user in user-key mode', () => {
    const quota = { status: 429, body: bodyOf('429 insufficient_quota (billing, not a rate limit)') }
    const operator = classifyOpenAIError(quota, quiet)
    expect(operator.clientStatus).toBe(503)
    expect(operator.userMessage).not.toMatch(/quota|billing|key/i)
    expect(operator.operatorHint).toContain('billing')
    const user = classifyOpenAIError(quota, { ...quiet, keyOwner: 'user' })
    expect(user.clientStatus).toBe(402)
    const invalid = classifyOpenAIError(
      { status: 401, body: bodyOf('401 invalid_api_key echoing the key') },
      { ...quiet, keyOwner: 'user' },
    )
    expect(invalid.clientStatus).toBe(401)
  })

  it('scrubs the key OpenAI echoes and any known secret from every field', async () => {
    const body = {
      error: {
        message: `Incorrect API key provided: ${canaryKey}. You can find your API key at https://platform.openai.com/account/api-keys.`,
        type: 'invalid_request_error',
        param: null,
        code: 'invalid_api_key',
      },
    }
    const errors = [
      classifyOpenAIError({ status: 401, body }, { secrets: [canaryKey] }),
      classifyOpenAIError({ status: 401, body }),
      await classifyOpenAIError(new Response(JSON.stringify(body), { status: 401 })),
      classifyOpenAIError({ body: { type: 'error', code: null, message: `bad key ${canaryKey}` } }, quiet),
      classifyOpenAIError(new Error(`Connection error. Authorization: Bearer ${canaryKey}`)),
    ]
    for (const error of errors) {
      const views = [
        error.message,
        error.operatorHint,
        error.userMessage,
        JSON.stringify(error),
        String(error),
        error.stack ?? '',
      ]
      for (const view of views) {
        expect(view).not.toContain(canaryKey)
        expect(view).not.toContain('CANARY')
      }
    }
  })
})

describe('openaiErrorRules', () => {
  it('gives every rule an operator hint and a matcher', () => {
    for (const rule of openaiErrorRules) {
      expect(rule.hint.length).toBeGreaterThan(10)
      expect(Object.keys(rule.match).length).toBeGreaterThan(0)
    }
  })
})
