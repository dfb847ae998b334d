import { describe, expect, it } from 'vitest'
import { Secret } from '../secrets/secret'
import { apiKeyKind, keyFingerprint, keyId } from './key-fingerprint'

const body = 'FAKEk3yXabcdefghijklmnopqrstuvwxyz0123456789'

describe('keyFingerprint', () => {
  it('shows the kind prefix and the last 4 characters only', () => {
    expect(keyFingerprint(`sk-proj-${body}Wq8A`)).toBe('sk-proj…Wq8A')
    expect(keyFingerprint(`sk-svcacct-${body}Zz01`)).toBe('sk-svcacct…Zz01')
    expect(keyFingerprint(`sk-admin-${body}AbCd`)).toBe('sk-admin…AbCd')
    expect(keyFingerprint(`sk-${body}9xYz`)).toBe('sk…9xYz')
    expect(keyFingerprint(Secret.from(`sk-proj-${body}Wq8A`))).toBe('sk-proj…Wq8A')
  })

  it('shows only the last 4 of a key of unknown kind, and no tail for a short value', () => {
    expect(keyFingerprint(`gateway_${body}Q1w2`)).toBe('…Q1w2')
    expect(keyFingerprint('sk-short')).toBe('sk…')
  })
})

describe('apiKeyKind', () => {
  it('tells the kind from the prefix, longest prefix first', () => {
    expect(apiKeyKind('sk-proj-x')).toBe('project')
    expect(apiKeyKind('sk-svcacct-x')).toBe('service-account')
    expect(apiKeyKind('sk-admin-x')).toBe('admin')
    expect(apiKeyKind('sk-x')).toBe('legacy-user')
    expect(apiKeyKind('x')).toBe('unknown')
  })
})

describe('keyId', () => {
  it('gives a short stable id that differs between keys and holds no part of the key', async () => {
    const a = await keyId(`sk-proj-${body}Wq8A`)
    expect(a).toMatch(/^key_[0-9a-f]{12}$/)
    expect(await keyId(Secret.from(`sk-proj-${body}Wq8A`))).toBe(a)
    expect(await keyId(`sk-proj-${body}Wq8B`)).not.toBe(a)
  })
})
