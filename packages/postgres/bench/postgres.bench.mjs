// Postgres store latency and throughput, and ledger write rate, each against a baseline in the same
// run on the same database (KEYGUARD_POSTGRES_URL or postgres://postgres@127.0.0.1:5432/test), in a
// schema of its own that is dropped at the end.
import * as core from '@keyguard/core'
import * as testing from '@keyguard/testing'
import pg from 'pg'
import { guardedMockUpstream, ratio, report } from '../../../scripts/bench-kit.mjs'
import { migrate, postgresLedger, postgresStore } from '../dist/index.js'

const url = process.env.KEYGUARD_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const schema = `kgbench_${process.pid}`
const pool = new pg.Pool({ connectionString: url, max: 16 })
await migrate({ pool, schema })
const store = postgresStore({ pool, schema })
const where = `${new URL(url).host}, pg.Pool max 16`

const endsAt = Date.now() + 3_600_000
const rules = {
  rpm: { kind: 'requests', limit: 1e9, windowMs: 60_000 },
  spend: { kind: 'spend', limitNanos: 9e15, period: { id: 'bench', endsAt }, softNanos: [] },
}
// A typical guarded request: a per-user request limit and a tenant spend limit.
const charges = (user) => [
  { scope: `user:${user}`, policy: 'rpm', rule: rules.rpm, amount: 1 },
  { scope: 'tenant:bench', policy: 'spend', rule: rules.spend, amount: 45_000 },
]
let seq = 0
const guardedRequest = async (caller) => {
  const id = `b${process.pid}-${seq++}`
  const reserved = await store.reserve({ id, charges: charges(caller), leaseMs: 60_000 })
  if (!reserved.ok) throw new Error('bench limit too low')
  await store.settle({ id, actual: { costNanos: 31_234, tokens: 900 } })
}
const concurrently = (callers, fn) => () =>
  Promise.all(Array.from({ length: callers }, (_, caller) => fn(caller)))

// 1. Latency of reserve + settle at 1, 16 and 64 concurrent callers.
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
for (const [callers, names] of [
  [1, ['p50']],
  [16, ['p99']],
  [64, ['p99']],
]) {
  const figures = await latencies(callers)
  const baseline = `reserve + settle of 2 limits, ${callers} concurrent caller${callers > 1 ? 's' : ''}, ${where}`
  for (const name of names)
    report({ name: `postgres-store-${name}-ms-${callers}`, value: figures[name], unit: 'ms', baseline })
}

// 2. Reserve ops/s against the plainest counter Postgres has: one UPDATE ... RETURNING per op.
await pool.query(
  `CREATE TABLE IF NOT EXISTS "${schema}".bench_counter (key text PRIMARY KEY, n bigint NOT NULL)`,
)
await pool.query(
  `INSERT INTO "${schema}".bench_counter SELECT 'user:' || g, 0 FROM generate_series(0, 15) g ON CONFLICT DO NOTHING`,
)
const updateReturning = (caller) =>
  pool.query(`UPDATE "${schema}".bench_counter SET n = n + 1 WHERE key = $1 AND n < 1000000000 RETURNING n`, [
    `user:${caller}`,
  ])
const reserveOnly = (caller) =>
  store.reserve({ id: `r${process.pid}-${seq++}`, charges: [charges(caller)[0]], leaseMs: 60_000 })
report({
  name: 'postgres-store-vs-update-returning',
  value: await ratio(concurrently(16, reserveOnly), concurrently(16, updateReturning)),
  unit: 'ratio',
  baseline: `one UPDATE … RETURNING on a counter row per op, 16 concurrent callers, ${where}`,
  target: '>= 0.5',
})

// The store sends its operations as named prepared statements; the same comparison against an UPDATE
// sent that way too (parsed and planned once per connection), for a reader who wants both sides prepared.
const updateNamed = (caller) =>
  pool.query({
    name: 'bench_update_returning',
    text: `UPDATE "${schema}".bench_counter SET n = n + 1 WHERE key = $1 AND n < 1000000000 RETURNING n`,
    values: [`user:${caller}`],
  })
report({
  name: 'postgres-store-vs-update-returning-prepared',
  value: await ratio(concurrently(16, reserveOnly), concurrently(16, updateNamed)),
  unit: 'ratio',
  baseline: `the same UPDATE … RETURNING sent as a named prepared statement, 16 concurrent callers, ${where}`,
})

const relaxed = postgresStore({ pool, schema, synchronousCommit: false })
const relaxedReserve = (caller) =>
  relaxed.reserve({ id: `a${process.pid}-${seq++}`, charges: [charges(caller)[0]], leaseMs: 60_000 })
report({
  name: 'postgres-store-vs-update-returning-async-commit',
  value: await ratio(concurrently(16, relaxedReserve), concurrently(16, updateReturning)),
  unit: 'ratio',
  baseline: `the same UPDATE … RETURNING, store with synchronousCommit: false, 16 concurrent callers, ${where}`,
})

// 3. Ledger rows written per second: record a burst, flush, count.
const ledger = postgresLedger({ pool, schema, batchSize: 1000 })
const entry = (i) => ({
  type: 'call',
  reservationId: `l${process.pid}-${i}`,
  scope: { tenant: `t${i % 50}`, user: `u${i % 500}` },
  keyName: 'default',
  fingerprint: 'sk-proj…Wq8A',
  model: 'gpt-4o-mini',
  endpoint: '/v1/chat/completions',
  tokens: { input: 120, cachedInput: 0, output: 40, reasoning: 0, total: 160 },
  costNanos: 42_000,
  ending: 'complete',
  estimated: false,
  charges: [{ scope: `tenant:t${i % 50}`, policy: 'spend-month', kind: 'spend', resetAt: endsAt }],
  startedAt: Date.now(),
  settledAt: Date.now(),
  upstreamRequestId: `req_${i}`,
})
let rows = 0
for (const warm of [true, false]) {
  const count = warm ? 2_000 : 50_000
  const start = performance.now()
  for (let i = 0; i < count; i++) ledger.record(entry(rows++))
  await ledger.flush()
  if (!warm)
    report({
      name: 'ledger-rows-per-second',
      value: count / ((performance.now() - start) / 1000),
      unit: 'rows/s',
      baseline: `${count} call rows recorded at once, flushed in batches of 1000, ${where}`,
      target: '>= 20000',
    })
}

// 4. Guarded calls/s through the mock upstream with the ledger on vs off (memory store both ways).
const { upstream, key, body } = await guardedMockUpstream({ core, testing })
const makeGuard = (withLedger) =>
  core.createKeyguard({
    key,
    upstream: { baseUrl: upstream.url },
    limits: [core.spendLimit({ scope: 'tenant', limit: core.usd(1e6), period: 'month' })],
    ...(withLedger ? { ledger: postgresLedger({ pool, schema }) } : {}),
  })
const withLedger = makeGuard(true)
const without = makeGuard(false)
const call = (guard) => async (caller) => {
  const response = await guard.for({ tenant: `t${caller}` }).fetch(`${upstream.url}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  await response.arrayBuffer()
}
report({
  name: 'guarded-with-ledger-vs-without',
  value: await ratio(concurrently(16, call(withLedger)), concurrently(16, call(without))),
  unit: 'ratio',
  baseline: `guarded chat calls/s without a ledger, mock upstream on loopback, 16 concurrent callers`,
  target: '>= 0.95',
})

await upstream.close()
await pool.query(`DROP SCHEMA "${schema}" CASCADE`)
await pool.end()
