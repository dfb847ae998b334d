// Redis's instructions per guarded request, counted by callgrind on the bench's own redis-server:
// unlike time, the count does not move with the machine's load, so it compares two versions of the
// scripts (or keyguard and a peer) exactly on a busy host. The workload is redis-cpu.bench.mjs's
// (3 limits, or KG_LIMITS=1|10, 16 callers, request window aged) beside rate-limiter-flexible doing the same work.
// Skipped (with a line saying so) where valgrind or redis-server is missing.
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Redis } from 'ioredis'
import { report } from '../../../scripts/bench-kit.mjs'
import { redisStore } from '../dist/index.js'
import { guardedRequest, rlfEquivalent, ten, three, windowMs } from './guarded-workload.mjs'

const has = (command, args) => spawnSync(command, args).status === 0
if (!has('valgrind', ['--version']) || !has('redis-server', ['--version'])) {
  console.log('redis-instructions: valgrind or redis-server missing, skipped')
  process.exit(0)
}
const port = await new Promise((resolve) => {
  const probe = createServer().listen(0, '127.0.0.1', () => {
    const { port: free } = probe.address()
    probe.close(() => resolve(free))
  })
})
const dir = mkdtempSync(path.join(tmpdir(), 'kg-callgrind-'))
const server = spawn(
  'valgrind',
  [
    '--tool=callgrind',
    '--instr-atstart=no',
    `--callgrind-out-file=${dir}/out.%p`,
    'redis-server',
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
  ],
  { stdio: 'ignore' },
)
const client = new Redis({ port, maxRetriesPerRequest: null, retryStrategy: (t) => (t > 150 ? null : 200) })
client.on('error', () => {})
await client.ping()
const control = (...flags) =>
  execFileSync('callgrind_control', [...flags, String(server.pid)], { stdio: 'ignore' })

const logger = { warn() {}, error() {} }
const store = redisStore({ client, prefix: 'kgir', timeoutMs: 60_000, fallback: 'deny', logger })
const workloads = { 1: (user) => three(user).slice(0, 1), 3: three, 10: ten }
const limits = Number(process.env.KG_LIMITS ?? 3)
const guarded = guardedRequest(store, 'i')(workloads[limits])
const rlf = rlfEquivalent(client, 'rlfir')

/** callgrind's instruction count of redis-server per call of `fn`, 16 callers, after a window's warm-up. */
async function instructionsPerCall(fn, calls = 300) {
  const stopAt = performance.now() + windowMs + 300
  const callers = Array.from({ length: 16 }, (_, caller) => caller)
  await Promise.all(
    callers.map(async (caller) => {
      while (performance.now() < stopAt) await fn(caller)
    }),
  )
  control('-z')
  control('-i', 'on')
  let started = 0
  await Promise.all(
    callers.map(async (caller) => {
      while (started++ < calls) await fn(caller)
    }),
  )
  control('-i', 'off')
  control('-d')
  const dumps = readdirSync(dir).filter((file) => /\.\d+\.\d+$/.test(file))
  const latest = dumps.sort((a, b) => Number(a.split('.').pop()) - Number(b.split('.').pop())).at(-1)
  const text = readFileSync(path.join(dir, latest), 'utf8')
  return Number(text.match(/^totals: (\d+)/m)?.[1]) / calls
}

const peer = await instructionsPerCall(rlf)
const keyguard = await instructionsPerCall(guarded)
report({
  name:
    limits === 3
      ? 'redis-instructions-per-guarded-request'
      : `redis-instructions-per-guarded-request-${limits}-limits`,
  value: keyguard,
  unit: 'instructions',
  baseline: `callgrind on redis-server, reserve + settle of ${limits} limits, 16 callers, request window aged; rate-limiter-flexible equivalent (3 consume + 2 reward + a record) ${Math.round(peer)} in the same run (keyguard ÷ peer ${(keyguard / peer).toFixed(2)})`,
})

client.disconnect()
server.kill('SIGINT')
setTimeout(() => rmSync(dir, { recursive: true, force: true }), 500)
