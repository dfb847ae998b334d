import { describe, expect, it } from 'vitest'
import type { KeyguardErrorCode } from '../errors/codes'
import { KeyguardError } from '../errors/keyguard-error'
import { type CircuitPass, keyCircuits } from './key-circuits'

const errorOf = (code: KeyguardErrorCode) => new KeyguardError({ code, message: code })

function setup(cooldownMs: number | null = 30_000) {
  let at = 0
  const circuits = keyCircuits({ cooldownMs, now: () => at })
  const pass = (keyName = 'default') => {
    const entered = circuits.enter(keyName)
    if ('open' in entered) throw new Error(`circuit of ${keyName} is open`)
    return entered as CircuitPass
  }
  return { circuits, pass, advance: (ms: number) => (at += ms) }
}

describe('keyCircuits', () => {
  it('opens on an error that makes the key unusable, refuses until the cooldown ends, and closes on a probe that succeeds', () => {
    const { circuits, pass, advance } = setup()
    const quota = errorOf('quota.insufficient')
    expect(pass().answered(quota)).toEqual({ type: 'opened', probeAt: 30_000 })
    expect(circuits.enter('default')).toEqual({ open: quota })
    expect('open' in circuits.enter('other')).toBe(false)
    advance(30_000)
    const probe = pass()
    // while the probe runs, every other call is still refused
    expect(circuits.enter('default')).toEqual({ open: quota })
    expect(probe.answered(undefined)).toEqual({ type: 'closed' })
    expect('open' in circuits.enter('default')).toBe(false)
  })

  it.each([
    'auth.permission_denied',
    'model.not_found',
    'auth.ip_not_allowed',
    'auth.region_unsupported',
    'auth.mismatched_project',
    'rate.upstream',
    'request.invalid',
    'upstream.server_error',
  ] as const)('leaves the circuit closed when OpenAI refuses one call with %s', (code) => {
    const { circuits, pass } = setup()
    expect(pass().answered(errorOf(code))).toBeUndefined()
    expect('open' in circuits.enter('default')).toBe(false)
  })

  it.each(['auth.invalid_key', 'auth.no_organization', 'quota.insufficient', 'quota.spend_limit'] as const)(
    'opens the circuit on %s',
    (code) => {
      const { circuits, pass } = setup()
      expect(pass().answered(errorOf(code))).toMatchObject({ type: 'opened' })
      expect('open' in circuits.enter('default')).toBe(true)
    },
  )

  it('lets the next call probe when a probe ends without a word on the key', () => {
    const { circuits, pass, advance } = setup()
    pass().answered(errorOf('auth.invalid_key'))
    advance(30_000)
    pass().abandon()
    const scoped = pass()
    expect(scoped.answered(errorOf('auth.permission_denied'))).toBeUndefined()
    // an endpoint-scoped refusal proves nothing about the key: still open, the next call probes
    const next = pass()
    expect('open' in circuits.enter('default')).toBe(true)
    expect(next.answered(undefined)).toEqual({ type: 'closed' })
  })

  it('reopens for a new cooldown when the probe fails the same way', () => {
    const { circuits, pass, advance } = setup()
    pass().answered(errorOf('auth.invalid_key'))
    advance(30_000)
    expect(pass().answered(errorOf('auth.invalid_key'))).toEqual({ type: 'opened', probeAt: 60_000 })
    advance(29_999)
    expect('open' in circuits.enter('default')).toBe(true)
  })

  it('never opens when cooldownMs is null', () => {
    const { circuits, pass } = setup(null)
    expect(pass().answered(errorOf('auth.invalid_key'))).toBeUndefined()
    expect('open' in circuits.enter('default')).toBe(false)
  })
})
