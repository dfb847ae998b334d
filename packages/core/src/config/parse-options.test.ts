import { afterEach, describe, expect, it } from 'vitest'
import * as z from 'zod/mini'
import type { KeyguardProblem } from '../errors/keyguard-error'
import { optionProblems, parseOptions } from './parse-options'

const schema = z.strictObject({
  timeoutMs: z.optional(z.int().check(z.positive(), z.maximum(1000))),
  mode: z.optional(z.enum(['memory', 'deny'])),
  hosts: z.optional(z.array(z.string())),
})

describe('parseOptions', () => {
  afterEach(() => {
    z.config(z.locales.en())
  })

  it('words every problem in keyguard’s own words, naming the option and its fix, whatever zod locale is installed', () => {
    z.config(z.locales.de())
    expect(() =>
      parseOptions(schema, { timeoutMs: 2000, mode: 'fast', hosts: [1], timeout: 1 }, 'redisStore'),
    ).toThrow(
      expect.objectContaining({
        code: 'config.invalid',
        problems: [
          expect.objectContaining({
            path: 'timeout',
            message: 'redisStore: unknown option `timeout`; did you mean `timeoutMs`?',
          }),
          expect.objectContaining({
            path: 'timeoutMs',
            message: 'redisStore: timeoutMs is above the maximum (1000)',
            fix: 'use a value of at most 1000',
          }),
          expect.objectContaining({
            path: 'mode',
            message: 'redisStore: mode is not one of "memory", "deny"',
            fix: 'use one of "memory", "deny"',
          }),
          expect.objectContaining({
            path: 'hosts[0]',
            message: 'redisStore: hosts[0] is not a string',
            fix: 'pass a string',
          }),
        ],
      }),
    )
  })

  it('names an option that moved with its new place, not as unknown', () => {
    const { ok, problems } = optionProblems(schema, { timeout: 5 }, 'redisStore', {
      moved: { timeout: 'timeoutMs' },
    })
    expect(ok).toBe(false)
    expect(problems).toHaveLength(1)
    expect(problems[0]?.path).toBe('timeout')
    expect(problems[0]?.message).toContain('timeoutMs')
  })

  it('names the fix the caller gives for an option', () => {
    const { ok, problems } = optionProblems(schema, { timeoutMs: 0 }, 'redisStore', {
      fixes: { timeoutMs: 'use a positive number of ms' },
    })
    expect(ok).toBe(false)
    expect(problems).toEqual([
      {
        code: 'too_small',
        path: 'timeoutMs',
        message: 'redisStore: timeoutMs is not above 0',
        fix: 'use a positive number of ms',
      },
    ])
  })

  it('runs the cross-field check on the raw options too, and returns valid options frozen', () => {
    const check = (value: { timeoutMs?: number | undefined }): KeyguardProblem[] =>
      value.timeoutMs === 7 ? [{ code: 'odd', path: 'timeoutMs', message: 'seven', fix: 'not 7' }] : []
    expect(() => parseOptions(schema, { timeoutMs: 7, mode: 'x' }, 'f', { check })).toThrow(
      expect.objectContaining({
        problems: [expect.objectContaining({ path: 'mode' }), expect.objectContaining({ code: 'odd' })],
      }),
    )
    const parsed = parseOptions(schema, { timeoutMs: 8 }, 'f', { check })
    expect(parsed).toEqual({ timeoutMs: 8 })
    expect(Object.isFrozen(parsed)).toBe(true)
  })
})
