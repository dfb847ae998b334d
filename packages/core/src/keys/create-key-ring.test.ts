import { describe, expect, it } from 'vitest'
import { isKeyguardError, type KeyguardError } from '../errors/keyguard-error'
import { createKeyRing } from './create-key-ring'
import { parseApiKey } from './parse-api-key'

const key = (tail: string) => `sk-proj-FAKEk3yXq1w2e3r4t5y6u7i8o9p0asdfghjkl${tail}`

const errorOf = (run: () => unknown): KeyguardError => {
  try {
    run()
  } catch (error) {
    if (isKeyguardError(error)) return error
    throw error
  }
  throw new Error('expected a KeyguardError')
}

describe('createKeyRing', () => {
  it('holds named keys with labels limits can scope by', () => {
    const ring = createKeyRing({
      default: key('AAAA'),
      batch: { value: key('BBBB'), labels: { team: 'data' } },
      acme: parseApiKey(key('CCCC'), { name: 'tenant acme' }),
    })
    expect(ring.labels).toEqual(['default', 'batch', 'acme'])
    expect(ring.get().fingerprint).toBe('sk-proj…AAAA')
    expect(ring.get('batch')).toMatchObject({
      label: 'batch',
      labels: { team: 'data' },
      fingerprint: 'sk-proj…BBBB',
    })
    expect(ring.get('acme').label).toBe('acme')
    expect(ring.has('nope')).toBe(false)
    expect(ring.secrets().map((secret) => secret.reveal())).toEqual([key('AAAA'), key('BBBB'), key('CCCC')])
  })

  it('reports every problem of every key in one error, each naming its key', () => {
    const error = errorOf(() => createKeyRing({ default: ` ${key('AAAA')}`, batch: 'changeme', spare: '' }))
    expect(error.code).toBe('key.invalid')
    expect(error.problems.map((problem) => [problem.path, problem.code])).toEqual([
      ['default', 'whitespace'],
      ['batch', 'placeholder'],
      ['spare', 'missing'],
    ])
  })

  it('throws key.missing for an unknown label, listing the labels it has', () => {
    const error = errorOf(() => createKeyRing({ default: key('AAAA') }).get('batch'))
    expect(error.code).toBe('key.missing')
    expect(error.message).toContain('it has: default')
  })
})
