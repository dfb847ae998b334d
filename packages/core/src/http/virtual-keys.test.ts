import { describe, expect, it } from 'vitest'
import { generateVirtualKey, hashVirtualKey, virtualKeys } from './virtual-keys'

describe('virtualKeys', () => {
  it('finds the scope of a key stored as its hash', async () => {
    const key = generateVirtualKey()
    const keys = virtualKeys({
      [await hashVirtualKey(key)]: { tenant: 'acme' },
      'kg-other': { tenant: 'globex' },
    })
    expect(await keys.find(key)).toEqual({ tenant: 'acme' })
    expect(await keys.find('kg-other')).toEqual({ tenant: 'globex' })
  })

  it('finds nothing for a wrong, empty or near-miss key', async () => {
    const keys = virtualKeys({ 'kg-right-key': { tenant: 'acme' } })
    for (const wrong of ['', 'kg-right-ke', 'kg-right-key ', 'KG-RIGHT-KEY'])
      expect(await keys.find(wrong)).toBeUndefined()
  })

  it('answers at once, without waiting on a digest, among a thousand keys', async () => {
    const entries: Record<string, { tenant: string }> = {}
    for (let index = 0; index < 1000; index++) entries[`kg-key-${index}`] = { tenant: `t${index}` }
    const wanted = generateVirtualKey()
    entries[(await hashVirtualKey(wanted)).toUpperCase().replace('SHA256:', 'sha256:')] = { tenant: 'acme' }
    const keys = virtualKeys(entries)
    expect(keys.find(wanted)).toEqual({ tenant: 'acme' })
    expect(keys.find('kg-key-999')).toEqual({ tenant: 't999' })
    expect(keys.find('kg-key-1000')).toBeUndefined()
  })

  it('refuses a malformed hash at construction', () => {
    expect(() => virtualKeys({ 'sha256:abc': { tenant: 'acme' } })).toThrow(/64 hex digits/)
  })
})

describe('hashVirtualKey', () => {
  it('hashes with SHA-256 as hex', async () => {
    expect(await hashVirtualKey('password')).toBe(
      'sha256:5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8',
    )
  })
})

describe('generateVirtualKey', () => {
  it('makes distinct random keys with the prefix', () => {
    const keys = new Set(Array.from({ length: 100 }, () => generateVirtualKey('vk-')))
    expect(keys.size).toBe(100)
    for (const key of keys) expect(key).toMatch(/^vk-[0-9A-Za-z]{32}$/)
  })
})
