import { describe, expect, it } from 'vitest'
import { errorCodeTable, keyguardErrorCodes } from './codes'
import { isKeyguardError, KeyguardError, type KeyguardErrorOptions } from './keyguard-error'

describe('KeyguardError', () => {
  it('takes status, retryability and the user message from the code table', () => {
    const error = new KeyguardError({ code: 'credits.exhausted', message: 'tenant t1 has 0 credits left' })
    expect(error.clientStatus).toBe(402)
    expect(error.retryable).toBe(false)
    expect(error.userMessage).toBe(errorCodeTable['credits.exhausted'].userMessage)
    expect(error.operatorHint).toBe('tenant t1 has 0 credits left')
    expect(error).toBeInstanceOf(Error)
  })

  it('answers operator problems with 503 and a message that blames nobody', () => {
    for (const code of keyguardErrorCodes.filter((c) => /^(auth|quota|key\.(invalid|missing))/.test(c))) {
      const { clientStatus, userMessage } = errorCodeTable[code]
      expect(clientStatus, code).toBe(503)
      expect(userMessage, code).not.toMatch(/key|billing|quota/i)
    }
  })

  it('serializes to JSON without its cause', () => {
    const error = new KeyguardError({
      code: 'store.unavailable',
      message: 'redis timed out',
      cause: { secret: 'x' },
    })
    const json = JSON.parse(JSON.stringify(error))
    expect(json).toMatchObject({ code: 'store.unavailable', clientStatus: 503, retryable: true })
    expect(json).not.toHaveProperty('cause')
  })

  it('answers 429 only while retryable: 403 for a rate limit waiting over a minute, 402 for a spent budget', () => {
    const status = (options: Omit<KeyguardErrorOptions, 'message'>) =>
      new KeyguardError({ message: 'x', ...options }).clientStatus
    expect(status({ code: 'rate.requests', retryAfterMs: 60_000 })).toBe(429)
    expect(status({ code: 'rate.requests', retryAfterMs: 60_001 })).toBe(403)
    expect(status({ code: 'rate.concurrency', retryable: false })).toBe(403)
    expect(status({ code: 'rate.tokens', retryAfterMs: 3_600_000, clientStatus: 429 })).toBe(429)
    expect(status({ code: 'budget.hard_limit', retryAfterMs: 1000 })).toBe(402)
  })
})

describe('isKeyguardError', () => {
  it('recognises an error from another copy of the package by its global symbol', () => {
    const foreign = Object.assign(new Error('x'), { [Symbol.for('keyguard.error')]: true })
    expect(isKeyguardError(foreign)).toBe(true)
    expect(isKeyguardError(new KeyguardError({ code: 'rate.requests', message: 'x' }))).toBe(true)
  })

  it('rejects look-alikes', () => {
    expect(isKeyguardError(new Error('x'))).toBe(false)
    expect(isKeyguardError({ code: 'rate.requests' })).toBe(false)
    expect(isKeyguardError(null)).toBe(false)
  })
})
