import { createKeyguard, isKeyguardError } from '@keyguard/core'
import { exampleMockKey } from '@keyguard/testing'
import { describe, expect, it } from 'vitest'
import { keyguardErrorHandler } from './error-handler'
import { keyguard } from './keyguard'
import { openaiProxy } from './openai-proxy'

const guard = createKeyguard({ key: exampleMockKey, logger: { warn() {}, error() {} } })

// Every factory of @keyguard/express, each with one misspelt option and the key it meant.
const typos: [factory: string, build: () => unknown, typo: string, meant: string][] = [
  ['keyguard', () => keyguard({ guard, scopes: () => ({}) } as never), 'scopes', 'scope'],
  ['keyguard', () => keyguard({ guard, costHeader: true } as never), 'costHeader', 'costHeaders'],
  ['openaiProxy', () => openaiProxy({ guard, key: {} } as never), 'key', 'keys'],
  ['keyguardErrorHandler', () => keyguardErrorHandler({ formats: 'openai' } as never), 'formats', 'format'],
]

describe.each(typos)('%s', (factory, build, typo, meant) => {
  it(`rejects the unknown option ${typo} with config.invalid, naming ${meant}`, () => {
    let thrown: unknown
    try {
      build()
    } catch (error) {
      thrown = error
    }
    expect(isKeyguardError(thrown) && thrown.code).toBe('config.invalid')
    expect((thrown as Error).message).toContain(`${factory}: 1 problem`)
    expect((thrown as Error).message).toContain(`unknown option \`${typo}\`; did you mean \`${meant}\`?`)
  })
})
