// Redis time of the slow paths of issue 16 (a denial at a 100k-request limit, a reserve against
// 10k credit grants) and Redis memory per live reservation and per 1,000 requests/s, on the bench's
// own redis-server. Redis time is INFO commandstats' usec for FCALL (Redis 7: the store runs as
// Redis Functions) or EVALSHA (older servers), the script's own run time, per call; each row's
// baseline is an admitted reserve at a small limit, measured in the same run.
import { report } from '../../../scripts/bench-kit.mjs'
import { redisStore } from '../dist/index.js'
import { ownRedis } from './own-redis.mjs'

const redis = await ownRedis()
const { client, where } = redis
const prefix = 'kgslow'
const liveLeaseMs = 30_000 // the default
const rememberMs = 600_000 // the default
const logger = { warn() {}, error() {} } // the bench's server has no persistence, on purpose
const store = redisStore({ client, prefix, timeoutMs: 10_000, fallback: 'deny', logger })
// filling a 100k limit outlasts a live lease: these holds get an hour, renewed never
const filler = redisStore({
  client,
  prefix,
  timeoutMs: 10_000,
  fallback: 'deny',
  logger,
  liveLeaseMs: 3_600_000,
})

let seq = 0
const nextId = () => crypto.randomUUID() + String(seq++ % 10)
const endsAt = Date.now() + 3_600_000

/** Redis ms per script call while `fn` runs `calls` times (one script call each), from commandstats. */
async function redisMsPerCall(calls, fn) {
  await client.config('RESETSTAT')
  for (let i = 0; i < calls; i++) await fn(i)
  const info = await client.info('commandstats')
  const [, count, usec] = info.match(/^cmdstat_(?:fcall|evalsha):calls=(\d+),usec=(\d+)/m) ?? []
  if (count === undefined) throw new Error(`no FCALL or EVALSHA in INFO commandstats:\n${info}`)
  return Number(usec) / Number(count) / 1000
}

/** Runs `fn` `total` times, `width` at a time. */
async function fill(total, width, fn) {
  let next = 0
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < total) await fn(next++)
    }),
  )
}

const reserve = (charges) => store.reserve({ id: nextId(), charges, leaseMs: liveLeaseMs })

// Baseline: an admitted reserve of one request limit, far from full.
const small = { kind: 'requests', limit: 1e9, windowMs: 600_000 }
for (let i = 0; i < 500; i++) await reserve([{ scope: 'user:small', policy: 'rpm', rule: small, amount: 1 }])
const admittedMs = await redisMsPerCall(200, () =>
  reserve([{ scope: 'user:small', policy: 'rpm', rule: small, amount: 1 }]),
)

// 1. A denial at a request limit of 100k, full.
const big = { kind: 'requests', limit: 100_000, windowMs: 600_000 }
const bigCharge = [{ scope: 'tenant:big', policy: 'rpm', rule: big, amount: 1 }]
await fill(big.limit, 64, async () => {
  const held = await filler.reserve({ id: nextId(), charges: bigCharge, leaseMs: 3_600_000 })
  if (!held.ok) throw new Error('the 100k limit filled early')
})
const deniedMs = await redisMsPerCall(200, async () => {
  if ((await reserve(bigCharge)).ok) throw new Error('a full 100k limit admitted a call')
})
report({
  name: 'redis-denied-reserve-100k-ms',
  value: deniedMs,
  unit: 'ms',
  baseline: `Redis time (INFO commandstats) of a denied reserve at a full 100,000-request limit; an admitted reserve at a small one: ${admittedMs.toFixed(3)} ms, ${where}`,
  target: '<= 0.2',
})

// 2. A reserve against a balance of 10k grants (half of them expiring, far ahead).
const credits = { kind: 'credits' }
await fill(10_000, 64, (i) =>
  store.adjust({
    scope: 'tenant:grants',
    policy: 'credits',
    rule: credits,
    delta: 1_000_000,
    ...(i % 2 === 0 ? { expiresAt: Date.now() + 86_400_000 + i } : {}),
  }),
)
const grantsMs = await redisMsPerCall(200, async () => {
  const id = nextId()
  const reserved = await store.reserve({
    id,
    charges: [{ scope: 'tenant:grants', policy: 'credits', rule: credits, amount: 3_000_000 }],
    leaseMs: liveLeaseMs,
  })
  if (!reserved.ok) throw new Error('the credits ran out')
})
report({
  name: 'redis-reserve-10k-grants-ms',
  value: grantsMs,
  unit: 'ms',
  baseline: `Redis time (INFO commandstats) of a reserve against a credits balance of 10,000 grants; an admitted reserve at a small request limit: ${admittedMs.toFixed(3)} ms, ${where}`,
  target: '<= 0.2',
})

// 3. Memory: a typical guarded request's three limits (defaults: 30 s live lease, 10 min remember).
const rules = {
  rpm: { kind: 'requests', limit: 1e9, windowMs: 60_000 },
  tpm: { kind: 'tokens', capacity: 1e12, refillPerSecond: 1e9 },
  spend: { kind: 'spend', limitNanos: 9e15, period: { id: '2026-12', endsAt }, softNanos: [] },
}
const typical = (user) => [
  { scope: `user:u-${user}`, policy: 'rpm', rule: rules.rpm, amount: 1 },
  { scope: 'tenant:acme', policy: 'tpm', rule: rules.tpm, amount: 1200 },
  { scope: 'tenant:acme', policy: 'monthly-spend', rule: rules.spend, amount: 45_000 },
]
const usedMemory = async () => Number((await client.info('memory')).match(/^used_memory:(\d+)/m)[1])
const recordBytes = async (ids) => {
  let total = 0
  for (const id of ids) total += Number(await client.call('MEMORY', 'USAGE', `{${prefix}}:r:${id}`))
  return total / ids.length
}
const users = 100
for (let u = 0; u < users; u++) await reserve(typical(u)) // the states exist: count only what a request adds
const live = 5000
const liveIds = []
const before = await usedMemory()
await fill(live, 32, async (i) => {
  const id = nextId()
  liveIds.push(id)
  await store.reserve({ id, charges: typical(i % users), leaseMs: liveLeaseMs })
})
const liveDelta = ((await usedMemory()) - before) / live
const liveRecord = await recordBytes(liveIds.slice(0, 500))
report({
  name: 'redis-bytes-per-live-reservation',
  value: liveRecord,
  unit: 'bytes',
  baseline: `MEMORY USAGE of a live reservation's record, 3 limits (rpm, tpm, monthly spend); all it adds to Redis (record, holds, log entry; INFO used_memory delta over ${live}): ${Math.round(liveDelta)} bytes, ${where}`,
  target: '<= 256',
})

// Steady state at 1,000 requests/s: a finished request's record stays until its lease end + remember
// (settled at once here: 30 s + 600 s); its request-log entry stays for the window (60 s).
const done = 5000
const doneIds = []
const beforeDone = await usedMemory()
await fill(done, 32, async (i) => {
  const id = nextId()
  doneIds.push(id)
  await store.reserve({ id, charges: typical(i % users), leaseMs: liveLeaseMs })
  await store.settle({ id, actual: { costNanos: 31_234, tokens: 900 } })
})
const doneDelta = ((await usedMemory()) - beforeDone) / done
const doneRecord = await recordBytes(doneIds.slice(0, 500))
const recordLife = (liveLeaseMs + rememberMs) / 1000
const logLife = rules.rpm.windowMs / 1000
const mbPer1k = (1000 * (doneRecord * recordLife + Math.max(0, doneDelta - doneRecord) * logLife)) / 1e6
report({
  name: 'redis-mb-per-1k-rps',
  value: mbPer1k,
  unit: 'MB',
  baseline: `steady state at 1,000 guarded requests/s with defaults: 1000 × (record ${Math.round(doneRecord)} B × ${recordLife} s + log entry ${Math.round(doneDelta - doneRecord)} B × ${logLife} s), from MEMORY USAGE and INFO used_memory over ${done} settled requests, ${where}`,
})

redis.close()
