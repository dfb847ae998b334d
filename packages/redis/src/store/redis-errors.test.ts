import { describe, expect, it } from 'vitest'
import { misconfiguration } from './redis-errors'

describe('misconfiguration', () => {
  it.each([
    ["CROSSSLOT Keys in request don't hash to the same slot", 'CROSSSLOT', /non-empty/],
    [
      "OOM command not allowed when used memory > 'maxmemory'. script: f4e6, on @user_script:1.",
      'OOM',
      /maxmemory/,
    ],
    ['WRONGTYPE Operation against a key holding the wrong kind of value', 'WRONGTYPE', /prefix/],
    ['NOSCRIPT No matching script. Please use EVAL.', 'NOSCRIPT', /EVAL/],
    ['NOPERM this user has no permissions to run the evalsha command', 'NOPERM', /ACL/],
    [
      'MISCONF Redis is configured to save RDB snapshots, but it is currently not able to persist on disk',
      'MISCONF',
      /disk/,
    ],
    [
      'ERR user_script:12: Expected value but found invalid unicode escape code at character 9 script: ab12, on @user_script:12.',
      'ERR',
      /report/,
    ],
    [
      "ERR user_function:3: attempt to index local 'x' (a nil value) script: keyguard_ab12_reserve, on @user_function:3.",
      'ERR',
      /report/,
    ],
  ])('names %s with its fix', (message, name, fix) => {
    expect(misconfiguration(new Error(message))).toMatchObject({ name, fix: expect.stringMatching(fix) })
  })

  it.each([
    'connect ECONNREFUSED 127.0.0.1:6379',
    'Connection is closed.',
    'LOADING Redis is loading the dataset in memory',
    'BUSY Redis is busy running a script',
    'READONLY You cannot write against a read only replica.',
  ])('leaves %s to the outage path', (message) => {
    expect(misconfiguration(new Error(message))).toBeUndefined()
  })
})
