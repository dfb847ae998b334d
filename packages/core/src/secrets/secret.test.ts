import { describe, expect, it } from 'vitest'
import { Secret } from './secret'

const value = 'sk-proj-TESTsecretValue0123456789abcdefWq8A'

describe('Secret', () => {
  it('prints <redacted:NAME> in strings, templates and JSON', () => {
    const secret = Secret.from(value, 'OPENAI_API_KEY')
    expect(String(secret)).toBe('<redacted:OPENAI_API_KEY>')
    expect(`${secret}`).toBe('<redacted:OPENAI_API_KEY>')
    expect(`x${secret as unknown as string}`).toBe('x<redacted:OPENAI_API_KEY>')
    expect(JSON.stringify({ key: secret })).toBe('{"key":"<redacted:OPENAI_API_KEY>"}')
  })

  it('keeps the value off the object for spreading, entries and property listing', () => {
    const secret = Secret.from(value)
    const views = [
      JSON.stringify({ ...secret }),
      JSON.stringify(Object.entries(secret)),
      JSON.stringify(Object.getOwnPropertyNames(secret).map((name) => (secret as never)[name])),
      JSON.stringify(Reflect.ownKeys(secret).map(String)),
      Object.prototype.toString.call(secret),
    ]
    for (const view of views) expect(view).not.toContain(value)
    expect(secret.name).toBe('secret')
    expect(Object.isFrozen(secret)).toBe(true)
  })

  it('answers the inspect symbol Node uses, without importing node:util', () => {
    const secret = Secret.from(value, 'K')
    const inspect = (secret as unknown as Record<symbol, () => string>)[
      Symbol.for('nodejs.util.inspect.custom')
    ]
    expect(inspect?.call(secret)).toBe('<redacted:K>')
  })

  it('reveals the value on request', () => {
    expect(Secret.from(value).reveal()).toBe(value)
  })

  it('compares equal values as equal and different values as different', async () => {
    const secret = Secret.from(value)
    expect(await secret.equals(value)).toBe(true)
    expect(await secret.equals(Secret.from(value, 'other'))).toBe(true)
    expect(await secret.equals(`${value}x`)).toBe(false)
    expect(await secret.equals('')).toBe(false)
  })

  it('returns the same secret when given one, and renames it when asked', () => {
    const secret = Secret.from(value, 'A')
    expect(Secret.from(secret)).toBe(secret)
    expect(Secret.from(secret, 'B').name).toBe('B')
    expect(Secret.from(secret, 'B').reveal()).toBe(value)
    expect(Secret.isSecret(secret)).toBe(true)
    expect(Secret.isSecret(value)).toBe(false)
  })
})
