// Server CPU per store operation: one connection, operations one after another, the backend's
// utime + stime (from /proc, so Postgres must run on this machine) divided by the count. Independent
// of the machine's load, unlike ops/s. Usage: node bench/store-cpu.mjs [count]
import { readFileSync } from 'node:fs'
import pg from 'pg'
import { migrate, postgresStore } from '../dist/index.js'

const url = process.env.KEYGUARD_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const schema = process.env.KEYGUARD_BENCH_SCHEMA ?? `kgcpu_${process.pid}`
const count = Number(process.argv[2] ?? 2000)
const pool = new pg.Pool({ connectionString: url, max: 1 })
await migrate({ pool, schema })
const store = postgresStore({ pool, schema })
const { rows } = await pool.query('SELECT pg_backend_pid() AS pid')
const pid = rows[0].pid
const ticks = () => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return Number(fields[11]) + Number(fields[12]) // utime + stime, 1/100 s
}
const endsAt = Date.now() + 3_600_000
const rules = {
  rpm: { kind: 'requests', limit: 1e9, windowMs: 60_000 },
  spend: { kind: 'spend', limitNanos: 9e15, period: { id: 'bench', endsAt }, softNanos: [] },
}
const rpm = (user) => ({ scope: `user:${user}`, policy: 'rpm', rule: rules.rpm, amount: 1 })
const spend = { scope: 'tenant:bench', policy: 'spend', rule: rules.spend, amount: 45_000 }
await pool.query(
  `CREATE TABLE IF NOT EXISTS "${schema}".bench_counter (key text PRIMARY KEY, n bigint NOT NULL)`,
)
await pool.query(
  `INSERT INTO "${schema}".bench_counter SELECT 'user:' || g, 0 FROM generate_series(0, 15) g ON CONFLICT DO NOTHING`,
)

let seq = 0
const cases = {
  'update-returning': (i) =>
    pool.query(
      `UPDATE "${schema}".bench_counter SET n = n + 1 WHERE key = $1 AND n < 1000000000 RETURNING n`,
      [`user:${i % 16}`],
    ),
  'reserve-1-requests': (i) => store.reserve({ id: `r${seq++}`, charges: [rpm(i % 16)], leaseMs: 60_000 }),
  'reserve+settle-2': async (i) => {
    const id = `g${seq++}`
    await store.reserve({ id, charges: [rpm(i % 16), spend], leaseMs: 60_000 })
    await store.settle({ id, actual: { costNanos: 31_234, tokens: 900 } })
  },
}
const only = process.env.KEYGUARD_BENCH_CASES?.split(',')
for (const [name, op] of Object.entries(cases)) {
  if (only && !only.includes(name)) continue
  for (let i = 0; i < 200; i++) await op(i) // warm: plans cached
  const cpu0 = process.cpuUsage()
  const t0 = ticks()
  const start = performance.now()
  for (let i = 0; i < count; i++) await op(i)
  const wall = performance.now() - start
  const server = ((ticks() - t0) * 10) / count
  const { user, system } = process.cpuUsage(cpu0)
  console.log(
    JSON.stringify({
      name,
      serverMsPerOp: +server.toFixed(3),
      clientMsPerOp: +((user + system) / 1000 / count).toFixed(3),
      wallMsPerOp: +(wall / count).toFixed(3),
    }),
  )
}
if (!process.env.KEYGUARD_BENCH_SCHEMA) await pool.query(`DROP SCHEMA "${schema}" CASCADE`)
await pool.end()
