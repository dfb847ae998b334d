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

  it.each([
    ['envFile', { env: {}, envFile: 3 }, 'envFile'],
    ['override', { env: {}, override: 'yes' }, 'override is not a boolean'],
    ['env', { env: { OPENAI_API_KEY: 42 } }, 'env is not an object of strings'],
    ['cwd', { env: {}, cwd: '' }, 'cwd'],
  ] as const)(
    'refuses a bad %s with config.invalid naming it and a fix, before reading anything',
    (path, options, message) => {
      let thrown: unknown
      try {
        loadKeys(options as never)
      } catch (error) {
        thrown = error
      }
      expect(isKeyguardError(thrown) && thrown.code).toBe('config.invalid')
      expect((thrown as Error).message).toContain(message)
      expect(
        isKeyguardError(thrown) &&
          thrown.problems.some((problem) => (problem.path ?? '').startsWith(path) && problem.fix),
      ).toBe(true)
    },
  )
})
