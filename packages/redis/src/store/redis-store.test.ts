import { isKeyguardError, type LimitRule } from '@keyguard/core'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { IoredisLike } from '../client/redis-client'
import { redisStore } from './redis-store'

// A client that fails the way a dead Redis does: refused connections, or calls that never answer.
const refusing = (): IoredisLike & { calls: number } => {
  const client = {
    calls: 0,
    evalsha: async () => {
      client.calls++
      throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' })
    },
    eval: async () => {
      throw new Error('unreachable')
    },
  }
  return client
}
const hanging = (): IoredisLike & { late: ((error: Error) => void)[] } => {
  const late: ((error: Error) => void)[] = []
  return {
    late,
    evalsha: () => new Promise((_, reject) => late.push(reject)),
    eval: () => new Promise(() => {}),
  }
}
const quietLogger = () => ({ warn: vi.fn(), error: vi.fn() })

const spend: LimitRule = {
  kind: 'spend',
  limitNanos: 1_000,
  period: { id: 'p', endsAt: Date.now() + 60_000 },
  softNanos: [],
}
const rpm: LimitRule = { kind: 'requests', limit: 10, windowMs: 60_000 }
const conc: LimitRule = { kind: 'concurrency', limit: 3 }

let unhandled: unknown[] = []
const onUnhandled = (reason: unknown) => unhandled.push(reason)
beforeEach(() => {
  unhandled = []
  process.on('unhandledRejection', onUnhandled)
})
afterEach(() => {
  process.off('unhandledRejection', onUnhandled)
})

describe('redisStore', () => {
  it('denies spend with store.unavailable (HTTP 503) when Redis refuses', async () => {
    const onStoreError = vi.fn()
    const store = redisStore({ client: refusing(), logger: quietLogger(), onStoreError })
    const charges = [{ scope: 't', policy: 'spend', rule: spend, amount: 1 }]
    const error = await (async () => store.reserve({ id: 'a', charges, leaseMs: 1000 }))().then(
      () => undefined,
      (rejection: unknown) => rejection,
    )
    expect(isKeyguardError(error) && error.code).toBe('store.unavailable')
    expect(isKeyguardError(error) && error.clientStatus).toBe(503)
    expect(onStoreError).toHaveBeenCalledWith(expect.any(Error), {
      operation: 'reserve',
      outcome: 'denied',
      circuitOpen: false,
    })
  })

  it('fails closed on object ownership when Redis refuses, never answering from a local store', async () => {
    const onStoreError = vi.fn()
    const store = redisStore({ client: refusing(), logger: quietLogger(), onStoreError })
    for (const call of [
      () => store.claim?.({ objectId: 'resp_1', owner: 'tenant=acme', ttlMs: 1000 }),
      () => store.ownerOf?.('resp_1'),
    ]) {
      const error = await (async () => call())().then(
        () => undefined,
        (rejection: unknown) => rejection,
      )
      expect(isKeyguardError(error) && error.code).toBe('store.unavailable')
    }
    expect(onStoreError).toHaveBeenCalledWith(expect.any(Error), {
      operation: 'ownerOf',
      outcome: 'denied',
      circuitOpen: false,
    })
  })

  it('times out a call that does not answer, without an unhandled rejection when it fails later', async () => {
    const client = hanging()
    const store = redisStore({ client, timeoutMs: 20, logger: quietLogger() })
    await expect(
      store.reserve({
        id: 'a',
        charges: [{ scope: 't', policy: 'spend', rule: spend, amount: 1 }],
        leaseMs: 1000,
      }),
    ).rejects.toMatchObject({ code: 'store.unavailable', message: expect.stringMatching(/within 20 ms/) })
    for (const reject of client.late) reject(new Error('connection closed'))
    await new Promise((resolve) => setImmediate(resolve))
    expect(unhandled).toEqual([])
  })

  it('falls back to a local store with rate limits divided by expectedInstances', async () => {
    const store = redisStore({ client: refusing(), expectedInstances: 4, logger: quietLogger() })
    const charges = [{ scope: 't', policy: 'rpm', rule: rpm, amount: 1 }]
    const results = []
    for (let i = 0; i < 4; i++) results.push(await store.reserve({ id: `r${i}`, charges, leaseMs: 1000 }))
    expect(results.map((result) => result.ok)).toEqual([true, true, false, false])
    const denied = results[2]
    expect(!denied?.ok && denied?.denial).toMatchObject({ policy: 'rpm', limit: 2 })
  })

  it('takes the divisor per policy from a function', async () => {
    const store = redisStore({
      client: refusing(),
      expectedInstances: ({ policy }) => (policy === 'conc' ? 1 : 5),
      logger: quietLogger(),
    })
    const [state] = await store.peek({ scope: 't', policies: [{ policy: 'conc', rule: conc }] })
    expect(state?.limit).toBe(3)
    const [rate] = await store.peek({ scope: 't', policies: [{ policy: 'rpm', rule: rpm }] })
    expect(rate?.limit).toBe(2)
  })

  it('settles and releases a fallback reservation in the local store', async () => {
    const store = redisStore({ client: refusing(), logger: quietLogger() })
    const charges = [{ scope: 't', policy: 'conc', rule: conc, amount: 1 }]
    await store.reserve({ id: 'x', charges, leaseMs: 1000 })
    await store.reserve({ id: 'y', charges, leaseMs: 1000 })
    expect((await store.settle({ id: 'x', actual: { costNanos: 0, tokens: 0 } })).status).toBe('settled')
    expect((await store.release('y')).status).toBe('released')
  })

  it('denies rate limits too when the fallback is deny', async () => {
    const store = redisStore({ client: refusing(), fallback: 'deny', logger: quietLogger() })
    await expect(
      store.reserve({
        id: 'a',
        charges: [{ scope: 't', policy: 'rpm', rule: rpm, amount: 1 }],
        leaseMs: 1000,
      }),
    ).rejects.toMatchObject({ code: 'store.unavailable' })
  })

  it('stops calling a dead Redis once the circuit opens, and warns once', async () => {
    const client = refusing()
    const logger = quietLogger()
    const store = redisStore({ client, logger, breaker: { failureThreshold: 2, cooldownMs: 60_000 } })
    const charges = [{ scope: 't', policy: 'rpm', rule: rpm, amount: 1 }]
    for (let i = 0; i < 6; i++) await store.reserve({ id: `r${i}`, charges, leaseMs: 1000 })
    // two reserves, and the cancel of each (a replay of a failed reserve must not hold anything)
    expect(client.calls).toBe(4)
    expect(logger.warn).toHaveBeenCalledTimes(1)
    expect(logger.warn.mock.calls[0]?.[0]).toMatch(/unreachable.*DENY/)
  })

  it('throws RangeError on invalid input without counting a Redis failure', async () => {
    const client = refusing()
    const store = redisStore({ client, logger: quietLogger() })
    await expect(
      store.reserve({
        id: 'a',
        charges: [{ scope: 't', policy: 'spend', rule: spend, amount: -1 }],
        leaseMs: 1000,
      }),
    ).rejects.toBeInstanceOf(RangeError)
    expect(client.calls).toBe(0)
  })

  it('lists every invalid option in one config.invalid error', () => {
    const options = { client: {} as IoredisLike, timeoutMs: 0, expectedInstances: 0, shardBy: 'tenant' }
    expect(() => redisStore(options as never)).toThrow(
      expect.objectContaining({
        code: 'config.invalid',
        problems: expect.arrayContaining([
          expect.objectContaining({ path: 'client' }),
          expect.objectContaining({ path: 'shardBy' }),
          expect.objectContaining({ path: 'timeoutMs' }),
          expect.objectContaining({ path: 'expectedInstances' }),
        ]),
      }),
    )
  })

  it('names each invalid option and its fix in keyguard’s words', () => {
    expect(() => redisStore({ client: {}, timeoutMs: 0, fallback: 'local' } as never)).toThrow(
      expect.objectContaining({
        code: 'config.invalid',
        problems: [
          expect.objectContaining({
            path: 'client',
            message: expect.stringContaining('client must be a connected ioredis or node-redis v5 client'),
            fix: expect.stringContaining('new Redis(url)'),
          }),
          expect.objectContaining({
            path: 'timeoutMs',
            message: 'redisStore: timeoutMs is not above 0',
            fix: 'use a value above 0',
          }),
          expect.objectContaining({ path: 'fallback', fix: expect.stringContaining("'memory'") }),
        ],
      }),
    )
  })

  it.each(['rememberMs', 'reclaimPerReserve', 'creditsTtlMs'])(
    'keeps the internal tunable %s out of the options',
    (name) => {
      expect(() => redisStore({ client: refusing(), [name]: 1000 } as never)).toThrow(
        expect.objectContaining({
          code: 'config.invalid',
          problems: [expect.objectContaining({ code: 'unknown_option', path: name })],
        }),
      )
    },
  )

  it.each([
    [{ prefx: 'kg' }, 'prefix', 'prefx'],
    [{ breaker: { cooldown: 10 } }, 'breaker.cooldownMs', 'breaker.cooldown'],
    [{ fallbak: 'deny' }, 'fallback', 'fallbak'],
  ])(
    'rejects an unknown option with config.invalid, naming the closest known one (%j)',
    (extra, meant, typo) => {
      expect(() => redisStore({ client: refusing(), ...extra } as never)).toThrow(
        expect.objectContaining({
          code: 'config.invalid',
          message: expect.stringContaining(`unknown option \`${typo}\`; did you mean \`${meant}\`?`),
        }),
      )
    },
  )
})
