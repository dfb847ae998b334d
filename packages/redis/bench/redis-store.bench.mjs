// Redis store throughput, latency and round trips, each measured against a baseline in the same run
// on the same Redis. The bench starts its own redis-server on a spare port (so INFO commandstats
// counts only its own traffic); without redis-server it uses KEYGUARD_REDIS_URL or 127.0.0.1:6379.
import { RateLimiterRedis } from 'rate-limiter-flexible'
import { opsPerSecond, ratio, report } from '../../../scripts/bench-kit.mjs'
import { redisStore } from '../dist/index.js'
import { ownRedis } from './own-redis.mjs'

const redis = await ownRedis()
const { client, server, where } = redis

const store = redisStore({ client, prefix: 'kgbench', timeoutMs: 5000, fallback: 'deny' })
const limiter = new RateLimiterRedis({
  storeClient: client,
  keyPrefix: 'rlfbench',
  points: 1e9,
  duration: 60,
})
const endsAt = Date.now() + 3_600_000
const rules = {
  rpm: { kind: 'requests', limit: 1e9, windowMs: 60_000 },
  tpm: { kind: 'tokens', capacity: 1e12, refillPerSecond: 1e9 },
  spend: { kind: 'spend', limitNanos: 9e15, period: { id: 'bench', endsAt }, softNanos: [] },
}
// A typical guarded request: a per-user request limit, a per-tenant token bucket, a tenant spend limit.
const guarded = (user) => [
  { scope: `user:${user}`, policy: 'rpm', rule: rules.rpm, amount: 1 },
  { scope: 'tenant:bench', policy: 'tpm', rule: rules.tpm, amount: 1200 },
  { scope: 'tenant:bench', policy: 'spend', rule: rules.spend, amount: 45_000 },
]

let seq = 0
const nextId = () => `b${process.pid}-${seq++}`
const reserveOnly = (caller) =>
  store.reserve({
    id: nextId(),
    charges: [{ scope: `user:${caller}`, policy: 'rpm', rule: rules.rpm, amount: 1 }],
    leaseMs: 60_000,
  })
const consume = (caller) => limiter.consume(`user:${caller}`, 1)
const guardedRequest = async (caller) => {
  const id = nextId()
  const reserved = await store.reserve({ id, charges: guarded(caller), leaseMs: 60_000 })
  if (!reserved.ok) throw new Error('bench limit too low')
  await store.settle({ id, actual: { costNanos: 31_234, tokens: 900 } })
}
await client.script('LOAD', 'return 1')
const trivial = () => client.evalsha('e0e1f9fabfc9d4800c877a703b823ac0578ff8db', 0)
const twoTrivialRoundTrips = async () => {
  await trivial()
  await trivial()
}
const concurrently = (callers, fn) => () =>
  Promise.all(Array.from({ length: callers }, (_, caller) => fn(caller)))

// 1. The figure: reserve throughput ÷ RateLimiterRedis.consume, 16 concurrent callers.
const reserveVsRlf = await ratio(concurrently(16, reserveOnly), concurrently(16, consume))
report({
  name: 'redis-store-vs-rate-limiter-flexible',
  value: reserveVsRlf,
  unit: 'ratio',
  baseline: `RateLimiterRedis.consume (rate-limiter-flexible, ioredis), 16 concurrent callers, ${where}`,
  target: '>= 0.9',
})

// 2. A whole guarded request (reserve + settle of three limits) against two bare EVALSHA round trips.
const guardedVsBare = await ratio(concurrently(16, guardedRequest), concurrently(16, twoTrivialRoundTrips))
report({
  name: 'redis-store-reserve-settle-vs-two-evalsha',
  value: guardedVsBare,
  unit: 'ratio',
  baseline: `two sequential EVALSHA of 'return 1', 16 concurrent callers, ${where}`,
})
const batches = await opsPerSecond(concurrently(16, guardedRequest), { ms: 1000 })
report({
  name: 'redis-store-guarded-requests-per-second',
  value: batches * 16,
  unit: 'req/s',
  baseline: `16 concurrent callers, ${where}`,
})

// 3. Latency of reserve + settle at 1, 16 and 64 concurrent callers.
async function latencies(callers, ms = 1500) {
  const samples = []
  const stopAt = performance.now() + ms
  await Promise.all(
    Array.from({ length: callers }, async (_, caller) => {
      while (performance.now() < stopAt) {
        const start = performance.now()
        await guardedRequest(caller)
        samples.push(performance.now() - start)
      }
    }),
  )
  samples.sort((a, b) => a - b)
  const at = (q) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))]
  return { p50: at(0.5), p99: at(0.99) }
}
await latencies(4, 300)
for (const callers of [1, 16, 64]) {
  const { p50, p99 } = await latencies(callers)
  const baseline = `reserve + settle of 3 limits, ${callers} concurrent caller${callers > 1 ? 's' : ''}, ${where}`
  report({ name: `redis-store-p50-ms-${callers}`, value: p50, unit: 'ms', baseline })
  report({ name: `redis-store-p99-ms-${callers}`, value: p99, unit: 'ms', baseline })
}

// 4. Redis commands per guarded request, from INFO commandstats: the client's own commands
//    (EVALSHA, and EVAL after a NOSCRIPT) — commands run inside a script are reported separately.
const parseStats = (info) =>
  Object.fromEntries(
    [...info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)].map(([, name, calls]) => [name, Number(calls)]),
  )
const requests = 1000
if (server) {
  await client.config('RESETSTAT')
  for (let i = 0; i < requests; i++) await guardedRequest(0)
  const stats = parseStats(await client.info('commandstats'))
  const topLevel = (stats.evalsha ?? 0) + (stats.eval ?? 0)
  const inside = Object.entries(stats)
    .filter(([name]) => !['evalsha', 'eval', 'config', 'info'].includes(name))
    .reduce((sum, [, calls]) => sum + calls, 0)
  report({
    name: 'redis-store-commands-per-request',
    value: topLevel / requests,
    unit: 'commands',
    baseline: `INFO commandstats over ${requests} guarded requests (EVALSHA + EVAL); one reserve, one settle`,
    target: '<= 2',
  })
  report({
    name: 'redis-store-script-commands-per-request',
    value: inside / requests,
    unit: 'commands',
    baseline: 'commands run inside the two scripts, per guarded request (3 limits), informational',
  })
}

redis.close()
