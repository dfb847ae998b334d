// Redis CPU per guarded request (issue 17.2), from Redis itself: INFO commandstats' usec of the
// calls the client sends (EVALSHA / EVAL / FCALL, plus top-level commands a peer sends), divided by
// guarded requests, on the bench's own redis-server (no other traffic). On a shared machine a
// script that loses the CPU mid-run counts the wait too, so each figure is the least of its rounds;
// the main thread's CPU time (INFO cpu, network work included) is reported beside it. The log's window is
// short and warmed past, so every reserve also ages an entry out ("window aged"). Baselines in the
// same run: rate-limiter-flexible doing the equivalent work (3 consumes, 2 refunds, a record) and
// two bare EVALSHA round trips. Set KEYGUARD_CPU_CLIENT=node-redis to drive it with node-redis.
import { createClient } from 'redis'
import { report } from '../../../scripts/bench-kit.mjs'
import { redisStore } from '../dist/index.js'
import { guardedRequest, rlfEquivalent, ten, three, windowMs } from './guarded-workload.mjs'
import { ownRedis } from './own-redis.mjs'

const redis = await ownRedis()
const { where } = redis
const admin = redis.client
let client = admin
const clientName = process.env.KEYGUARD_CPU_CLIENT === 'node-redis' ? 'node-redis' : 'ioredis'
if (clientName === 'node-redis') {
  client = createClient({ url: `redis://127.0.0.1:${admin.options.port}` })
  client.on('error', () => {})
  await client.connect()
}
const logger = { warn() {}, error() {} } // the bench's server has no persistence, on purpose
const store = redisStore({ client, prefix: 'kgcpu', timeoutMs: 10_000, fallback: 'deny', logger })

const one = (user) => three(user).slice(0, 1)
const guarded = guardedRequest(store, `c${process.pid}-`)
const rlf = rlfEquivalent(admin, 'rlfcpu')
const trivialSha = await admin.script('LOAD', 'return 1')
const twoBareEvalsha = async () => {
  await admin.evalsha(trivialSha, 0)
  await admin.evalsha(trivialSha, 0)
}

const callers = 16
const run = (fn, ms) =>
  new Promise((resolve, reject) => {
    const stopAt = performance.now() + ms
    let count = 0
    Promise.all(
      Array.from({ length: callers }, async (_, caller) => {
        while (performance.now() < stopAt) {
          await fn(caller)
          count++
        }
      }),
    ).then(() => resolve(count), reject)
  })
// top-level commands only: a command a script runs is counted under its own name too
const topLevel = new Set(['evalsha', 'eval', 'fcall', 'psetex'])
const threadCpuUs = async () => {
  const info = await admin.info('cpu')
  const field = (name) => Number(info.match(new RegExp(`${name}:([\\d.]+)`))?.[1] ?? Number.NaN)
  return (field('used_cpu_user_main_thread') + field('used_cpu_sys_main_thread')) * 1e6
}
const threadCpu = { three: [], rlf: [], bare: [] }
async function cpuUsPerRequest(fn, { warmMs = windowMs + 300, ms = 1500, thread } = {}) {
  await run(fn, warmMs) // past one window: every reserve now ages an entry out
  await admin.config('RESETSTAT')
  const before = await threadCpuUs()
  const count = await run(fn, ms)
  thread?.push(((await threadCpuUs()) - before) / count)
  const info = await admin.info('commandstats')
  let usec = 0
  for (const [, name, micros] of info.matchAll(/^cmdstat_([^:]+):calls=\d+,usec=(\d+)/gm))
    if (topLevel.has(name)) usec += Number(micros)
  return usec / count
}

const rounds = Number(process.env.KEYGUARD_CPU_ROUNDS ?? 3)
const samples = { three: [], one: [], ten: [], rlf: [], bare: [] }
for (let round = 0; round < rounds; round++) {
  samples.bare.push(await cpuUsPerRequest(twoBareEvalsha, { thread: threadCpu.bare }))
  samples.rlf.push(await cpuUsPerRequest(rlf, { thread: threadCpu.rlf }))
  samples.three.push(await cpuUsPerRequest(guarded(three), { thread: threadCpu.three }))
  samples.one.push(await cpuUsPerRequest(guarded(one)))
  samples.ten.push(await cpuUsPerRequest(guarded(ten)))
}
const least = (list) => Math.min(...list)
const span = (list) => `${least(list).toFixed(1)}–${Math.max(...list).toFixed(1)}`
const base = `INFO commandstats usec / request, ${callers} concurrent callers, least of ${rounds} rounds (${span(samples.three)}), ${clientName}, ${where}, request window aged`
const perExtra = (least(samples.ten) - least(samples.three)) / 7
report({
  name: 'redis-cpu-us-per-guarded-request',
  value: least(samples.three),
  unit: 'µs',
  baseline: `${base}; same run: rate-limiter-flexible equivalent (3 consume + 2 reward + a record) ${span(samples.rlf)} µs, two bare EVALSHA ${span(samples.bare)} µs, 1 limit ${span(samples.one)}, 10 limits ${span(samples.ten)}; main-thread CPU (network included): keyguard ${span(threadCpu.three)}, rate-limiter-flexible ${span(threadCpu.rlf)}, bare ${span(threadCpu.bare)}`,
  target: '<= 25',
})
report({
  name: 'redis-cpu-us-per-extra-limit',
  value: perExtra,
  unit: 'µs',
  baseline: '(10 limits − 3 limits) / 7, least of the same rounds',
  target: '<= 5',
})
report({
  name: 'redis-guarded-requests-per-core',
  value: 1e6 / least(samples.three),
  unit: 'req/s',
  baseline: `1e6 / redis-cpu-us-per-guarded-request; rate-limiter-flexible equivalent ${(1e6 / least(samples.rlf)).toFixed(0)}; by main-thread CPU ${(1e6 / least(threadCpu.three)).toFixed(0)} (rate-limiter-flexible ${(1e6 / least(threadCpu.rlf)).toFixed(0)})`,
  target: '>= 40000',
})

if (client !== admin) await client.quit()
redis.close()
