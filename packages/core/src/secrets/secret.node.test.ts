import { format, inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import { Secret } from './secret'

const value = 'sk-proj-TESTsecretValue0123456789abcdefWq8A'

describe('Secret', () => {
  it('prints redacted through util.inspect and console formatting, nested too', () => {
    const secret = Secret.from(value, 'OPENAI_API_KEY')
    for (const view of [
      inspect(secret),
      inspect({ deep: { deeper: [secret] } }, { depth: Number.POSITIVE_INFINITY, showHidden: true }),
      format('%s %o %O %j', secret, secret, secret, secret),
    ]) {
      expect(view).not.toContain(value)
      expect(view).toContain('<redacted:OPENAI_API_KEY>')
    }
  })
})
