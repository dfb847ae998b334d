// Instructions per reserve inside Postgres, counted by callgrind on a single-user backend: deterministic,
// where ops/s on a shared machine swing ±30% between runs. A throwaway cluster (initdb) is migrated to
// the newest version, then each case runs N/6 and N calls in a fresh copy of it; the difference over the
// extra calls is the marginal cost of one call (the first call of a session compiles the function, and
// each state's first reserve creates it through the general path: both cancel out). The figures include
// what single-user mode adds to every statement (parse, plan, commit): compare cases, not absolutes.
// Needs valgrind and the Postgres server binaries. Usage: node bench/reserve-instructions.mjs [N]
import { execFileSync, spawnSync } from 'node:child_process'
import { chmodSync, cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { migrate } from '../dist/index.js'

const n = Number(process.argv[2] ?? 600)
const bin = `/usr/lib/postgresql/${readdirSync('/usr/lib/postgresql').sort().pop()}/bin`
const root = mkdtempSync(join(tmpdir(), 'kg-instructions-'))
chmodSync(root, 0o777)
// Postgres refuses to run as root: run it as the `postgres` user then
const asServer = (command) =>
  process.getuid?.() === 0 ? ['su', ['postgres', '-c', command]] : ['sh', ['-c', command]]
const sh = (command) => {
  const [file, args] = asServer(command)
  const result = spawnSync(file, args, { encoding: 'utf8' })
  if (result.status !== 0) throw new Error(`${command}: ${result.stderr}`)
  return result.stdout
}
const pristine = join(root, 'pristine')
const port = 20_000 + (process.pid % 10_000)
sh(`${bin}/initdb -D ${pristine} -A trust > /dev/null`)
sh(`${bin}/pg_ctl -D ${pristine} -o '-p ${port} -c fsync=off -k ${root}' -l ${root}/log -w start > /dev/null`)
try {
  const pool = new pg.Pool({ connectionString: `postgres://postgres@127.0.0.1:${port}/postgres`, max: 1 })
  await migrate({ pool, schema: 'kg' })
  await pool.query('CREATE TABLE kg.bench_counter (key text PRIMARY KEY, n bigint NOT NULL)')
  await pool.query(`INSERT INTO kg.bench_counter SELECT 'user:' || g, 0 FROM generate_series(0, 15) g`)
  await pool.end()
} finally {
  sh(`${bin}/pg_ctl -D ${pristine} -w stop > /dev/null`)
}

const rule = { kind: 'requests', limit: 1e9, windowMs: 60_000 }
const quote = (text) => `'${text.replaceAll("'", "''")}'`
const charge = (user) => ({
  scope: `user:${user}`,
  policy: 'rpm',
  rule,
  amount: 1,
  key: `["user:${user}","rpm"]`,
})
/** One statement per case: a reserve of one requests limit, or the bench's baseline. */
const cases = {
  'keyguard_reserve (JSON in and out)': (id, user) =>
    `SELECT kg.keyguard_reserve(${quote(JSON.stringify({ id, leaseMs: 60_000, charges: [charge(user)], sync: true }))}::jsonb)`,
  'keyguard_reserve_one (typed)': (id, user) =>
    `SELECT kg.keyguard_reserve_one(${quote(id)}, 60000, ${quote(charge(user).key)}, 'requests', 1, 1000000000, 60000, NULL, ${quote(JSON.stringify([charge(user)]))}::jsonb, true)`,
  'UPDATE … RETURNING (baseline)': (_id, user) =>
    `UPDATE kg.bench_counter SET n = n + 1 WHERE key = 'user:${user}' AND n < 1000000000 RETURNING n`,
}
const instructions = (statement, calls, tag) => {
  const data = join(root, 'data')
  rmSync(data, { recursive: true, force: true })
  cpSync(pristine, data, { recursive: true })
  if (process.getuid?.() === 0) execFileSync('chown', ['-R', 'postgres', data])
  const input = join(root, 'in.sql')
  // -j: a statement ends at a semicolon followed by an empty line
  writeFileSync(
    input,
    Array.from({ length: calls }, (_, i) => `${statement(`${tag}${i}`, i % 16)};\n\n`).join(''),
  )
  chmodSync(input, 0o644)
  const out = join(root, 'callgrind.out')
  sh(
    `valgrind --tool=callgrind --callgrind-out-file=${out} ${bin}/postgres --single -j -D ${data} -c fsync=off postgres < ${input} > ${root}/single.log 2>&1`,
  )
  if (/ERROR/.test(readFileSync(`${root}/single.log`, 'utf8')))
    throw new Error(`${tag}: see ${root}/single.log`)
  const totals = readFileSync(out, 'utf8').match(/^(?:summary|totals): (\d+)/m)
  return Number(totals?.[1])
}
try {
  for (const [name, statement] of Object.entries(cases)) {
    const few = instructions(statement, Math.floor(n / 6), 'a')
    const many = instructions(statement, n, 'b')
    const perCall = Math.round((many - few) / (n - Math.floor(n / 6)))
    console.log(`${name.padEnd(40)} ${perCall.toLocaleString('en-US').padStart(10)} instructions a call`)
  }
} finally {
  rmSync(root, { recursive: true, force: true })
}
