// Guarded requests a second on a 3-master Redis Cluster against one redis-server, same run, same
// work: a reserve + settle of three limits keyed by a tenant (requests, tokens, spend), over 1,000
// tenants, from one load-generating process (this one) with 64 callers. Each tenant's limits are one
// slot, so each request is one script on one master: the Cluster can serve about 3x what one server
// does — when the machine has cores for three servers and the load generator. Also reported: where
// the CPU went (each server's, and this process's), so a ratio near 1 on a small machine says why.
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { Cluster, Redis } from 'ioredis'
import { opsPerSecond, report } from '../../../scripts/bench-kit.mjs'
import { redisStore } from '../dist/index.js'
import { ownRedis, spare } from './own-redis.mjs'

if (spawnSync('redis-cli', ['--version']).status !== 0) {
  console.log('redis-cluster bench: redis-cli is not installed; skipped')
  process.exit(0)
}

/** A 3-master Cluster on spare ports, joined by redis-cli --cluster create. */
async function ownCluster(masters = 3) {
  const nodes = []
  const servers = []
  const dirs = []
  for (let i = 0; i < masters; i++) {
    const port = await spare()
    const dir = mkdtempSync(join(tmpdir(), 'kg-bench-cluster-'))
    dirs.push(dir)
    const args = ['--port', String(port), '--cluster-port', String(await spare()), '--bind', '127.0.0.1']
    const cluster = ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--dir', dir]
    servers.push(
      spawn('redis-server', [...args, ...cluster, '--save', '', '--appendonly', 'no'], { stdio: 'ignore' }),
    )
    nodes.push({ host: '127.0.0.1', port })
  }
  for (const { port } of nodes) {
    const probe = new Redis(port, '127.0.0.1', { retryStrategy: (times) => (times > 100 ? null : 50) })
    probe.on('error', () => {}) // refused until the server is up
    await probe.ping()
    probe.disconnect()
  }
  const addresses = nodes.map(({ host, port }) => `${host}:${port}`)
  const created = spawnSync('redis-cli', [
    '--cluster',
    'create',
    ...addresses,
    '--cluster-replicas',
    '0',
    '--cluster-yes',
  ])
  if (created.status !== 0) throw new Error(`redis-cli --cluster create: ${created.stdout}${created.stderr}`)
  const client = new Cluster(nodes)
  client.on('error', () => {})
  for (let tries = 0; !/cluster_state:ok/.test(await client.cluster('INFO')); tries++) {
    if (tries > 200) throw new Error('the cluster did not reach cluster_state:ok')
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return {
    client,
    nodes,
    async close() {
      await client.quit().catch(() => {})
      for (const server of servers) server.kill('SIGKILL')
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
    },
  }
}

const single = await ownRedis()
const cluster = await ownCluster()
try {
  const logger = { warn() {}, error() {} } // the bench's servers have no persistence, on purpose
  const options = { prefix: 'kgbench', timeoutMs: 10_000, fallback: 'deny', logger }
  const stores = {
    single: redisStore({ client: single.client, ...options }),
    cluster: redisStore({ client: cluster.client, ...options }),
  }
  const endsAt = Date.now() + 3_600_000
  const rules = {
    rpm: { kind: 'requests', limit: 1e9, windowMs: 60_000 },
    tpm: { kind: 'tokens', capacity: 1e12, refillPerSecond: 1e9 },
    spend: { kind: 'spend', limitNanos: 9e15, period: { id: 'bench', endsAt }, softNanos: [] },
  }
  let seq = 0
  const guarded = (store) => async () => {
    const n = seq++
    const scope = `tenant:t${n % 1000}`
    const id = `c${process.pid}-${n}`
    const charges = [
      { scope, policy: 'rpm', rule: rules.rpm, amount: 1 },
      { scope, policy: 'tpm', rule: rules.tpm, amount: 1200 },
      { scope, policy: 'spend', rule: rules.spend, amount: 45_000 },
    ]
    const reserved = await store.reserve({ id, charges, leaseMs: 60_000 })
    if (!reserved.ok) throw new Error('bench limit too low')
    await store.settle({ id, actual: { costNanos: 31_234, tokens: 900 } })
  }
  const callers = 64
  const batch = (store) => () => Promise.all(Array.from({ length: callers }, guarded(store)))
  const masters = cluster.nodes.map(({ port }) => new Redis(port, '127.0.0.1'))
  for (const master of masters) master.on('error', () => {})
  const serverCpu = async (client) => {
    const info = await client.info('cpu')
    const field = (name) => Number(info.match(new RegExp(`^${name}:([\\d.]+)`, 'm'))?.[1] ?? 0)
    return field('used_cpu_user') + field('used_cpu_sys')
  }
  /** Guarded requests a second, and each server's CPU µs per request, over about 1.5 s. */
  const measure = async (store, servers) => {
    const before = await Promise.all(servers.map(serverCpu))
    const started = performance.now()
    const rate = (await opsPerSecond(batch(store), { ms: 1500, warmupMs: 100 })) * callers
    const requests = (rate * (performance.now() - started)) / 1000
    const after = await Promise.all(servers.map(serverCpu))
    return { rate, cpu: after.map((cpu, i) => ((cpu - before[i]) * 1e6) / requests) }
  }
  // alternate the two, round by round, so the machine's other load falls on both alike
  const rounds = []
  for (let round = 0; round < 5; round++) {
    const one = await measure(stores.single, [single.client])
    const three = await measure(stores.cluster, masters)
    rounds.push({ one, three })
  }
  const median = (values) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]
  const cores = availableParallelism()
  const work = `reserve + settle of 3 tenant limits over 1,000 tenants, ${callers} callers in one load-generating process, ${cores} cores shared by the servers and the load generator`
  report({
    name: 'cluster-3-vs-1-guarded-rps',
    value: median(rounds.map(({ one, three }) => three.rate / one.rate)),
    unit: 'ratio',
    baseline: `one redis-server, alternating rounds in the same run; ${work}`,
    target: cores >= 4 ? '>= 2.0' : null,
  })
  // what the servers could serve each on a core of its own: the busiest master bounds the Cluster
  report({
    name: 'cluster-3-vs-1-redis-cpu-capacity',
    value: median(rounds.map(({ one, three }) => one.cpu[0] / Math.max(...three.cpu))),
    unit: 'ratio',
    baseline: `Redis CPU µs per request of one server ÷ that of the busiest of 3 masters (INFO cpu), same rounds; ${work}`,
  })
  const last = rounds.at(-1)
  report({
    name: 'cluster-bench-redis-cpu-us-per-request',
    value: last.one.cpu[0],
    unit: 'µs',
    baseline: `one server; the 3 masters, each: ${last.three.cpu.map((cpu) => cpu.toFixed(1)).join(' / ')} µs (last round)`,
  })
  for (const master of masters) master.disconnect()
} finally {
  await cluster.close()
  single.close()
}
