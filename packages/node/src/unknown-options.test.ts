import { isKeyguardError } from '@keyguard/core'
import { describe, expect, it } from 'vitest'
import { loadKeys } from './load-keys'

describe('loadKeys', () => {
  it('rejects an unknown option with config.invalid, naming the closest known one', () => {
    let thrown: unknown
    try {
      loadKeys({ env: {}, envfile: true } as never)
    } catch (error) {
      thrown = error
    }
    expect(isKeyguardError(thrown) && thrown.code).toBe('config.invalid')
    expect((thrown as Error).message).toContain('unknown option `envfile`; did you mean `envFile`?')
  })
})
