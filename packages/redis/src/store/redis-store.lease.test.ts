import { type ChildProcess, spawn } from 'node:child_process'
import type { LimitRule } from '@keyguard/core'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { redisUrl, testPrefix } from '../client/test-redis'
import { bundleFixture } from './__fixtures__/bundle-fixture'
import { until } from './__fixtures__/redis-server'
import { redisStore } from './redis-store'

// Leases follow the request's real life: short, renewed while the reservation is open in a live
// process, so a crashed worker's holds end within liveLeaseMs, not the guard's 600 s lease.
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

let redis: Redis
let holderFile: string
beforeAll(async () => {
  redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 })
  holderFile = await bundleFixture('lease-holder')
})
afterAll(async () => {
  await redis.quit()
})

function startHolder(prefix: string, slots: number, liveLeaseMs: number) {
  const child: ChildProcess = spawn(process.execPath, [holderFile], {
    env: {
      ...process.env,
      REDIS_URL: redisUrl,
      PREFIX: prefix,
      SLOTS: String(slots),
      LIVE_LEASE_MS: String(liveLeaseMs),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let err = ''
  child.stderr?.on('data', (chunk) => {
    err += String(chunk)
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const held = new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk) => {
      if (String(chunk).includes('held')) resolve()
    })
    child.once('exit', (code) => reject(new Error(`the holder exited (${code}) before holding: ${err}`)))
  })
  return { child, held, exited }
}

// Each case has prefixes (and a holder process) of its own and mostly waits for leases: side by side.
// A live lease is renewed every third of it, so a process starved for more than two thirds of it loses
// its holds, as it should; the live leases here (6 s) leave a busy machine's stalls room.
describe.concurrent('redisStore leases', () => {
  it("frees a crashed worker's concurrency slots within its live lease", async () => {
    const prefix = testPrefix('crash')
    const liveLeaseMs = 6000
    const holder = startHolder(prefix, 2, liveLeaseMs)
    await holder.held
    const store = redisStore({ client: redis, prefix, timeoutMs: 5000, fallback: 'deny' })
    const rule: LimitRule = { kind: 'concurrency', limit: 2 }
    let n = 0
    const tryReserve = async () =>
      (
        await store.reserve({
          id: `other-${n++}`,
          charges: [{ scope: 'tenant:crash', policy: 'streams', rule, amount: 1 }],
          leaseMs: 60_000,
        })
      ).ok
    // alive, the holder renews: its slots stay held past two live leases
    await sleep(2 * liveLeaseMs + 1000)
    expect(await tryReserve()).toBe(false)
    holder.child.kill('SIGKILL')
    await holder.exited
    // crashed: the slots free once the live lease ends (the guard's lease was 600 s)
    await until(tryReserve, 60_000, "the crashed worker's slots")
    expect(await tryReserve()).toBe(true)
    expect(await tryReserve()).toBe(false)
  }, 120_000)

  it('keeps an open reservation alive past its live lease, and settles it exactly', async () => {
    const prefix = testPrefix('renew')
    const liveLeaseMs = 6000
    const store = redisStore({ client: redis, prefix, timeoutMs: 5000, fallback: 'deny', liveLeaseMs })
    const rule: LimitRule = {
      kind: 'spend',
      limitNanos: 1000,
      period: { id: 'p', endsAt: Date.now() + 600_000 },
      softNanos: [],
    }
    const charges = [{ scope: 'tenant:t', policy: 'spend', rule, amount: 900 }]
    expect((await store.reserve({ id: 'long', charges, leaseMs: 600_000 })).ok).toBe(true)
    await sleep(2 * liveLeaseMs + 1000)
    const settled = await store.settle({ id: 'long', actual: { costNanos: 120, tokens: 0 } })
    expect(settled.status).toBe('settled')
    expect(settled.states[0]).toMatchObject({ used: 120, held: 0 })
  }, 60_000)

  it("ends a reservation at the caller's lease, renewed or not", async () => {
    const prefix = testPrefix('until')
    const store = redisStore({ client: redis, prefix, timeoutMs: 5000, fallback: 'deny', liveLeaseMs: 1000 })
    const rule: LimitRule = { kind: 'concurrency', limit: 1 }
    const charges = [{ scope: 'tenant:t', policy: 'c', rule, amount: 1 }]
    expect((await store.reserve({ id: 'short', charges, leaseMs: 2000 })).ok).toBe(true)
    await until(
      async () => (await store.reserve({ id: `next-${Date.now()}`, charges, leaseMs: 60_000 })).ok,
      30_000,
      'the lease to end',
    )
    expect((await store.settle({ id: 'short', actual: { costNanos: 0, tokens: 0 } })).status).toBe('expired')
  }, 60_000)
})
