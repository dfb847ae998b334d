// One app instance of the fleet test: connects its own client, waits for "go" on stdin, fires its
// reservations all at once, settles the admitted ones, and prints one JSON line with what happened.
// With CLUSTER_NODES it connects a Cluster client; with TENANTS each reservation also charges one of
// that many tenants (round robin), a user and the whole app, over several Cluster slots.
import { Cluster, Redis } from 'ioredis'
import { createClient, createCluster } from 'redis'
import type { RedisClientLike } from '../../client/redis-client'
import { redisStore } from '../redis-store'

const { REDIS_URL, PREFIX, CLIENT, WORKER, COUNT, AMOUNT, LIMIT, ENDS_AT, CLUSTER_NODES, TENANTS } =
  process.env as Record<string, string>
const tenants = Number(TENANTS ?? 0)
const generous = { kind: 'requests' as const, limit: 1e9, windowMs: 60_000 }
const count = Number(COUNT)
const amount = Number(AMOUNT)
const rule = {
  kind: 'spend' as const,
  limitNanos: Number(LIMIT),
  period: { id: 'fleet', endsAt: Number(ENDS_AT) },
  softNanos: [],
}

// one spend limit that fits exactly K (global), or one per tenant (each scope its own count)
const chargesOf = (i: number) => {
  if (tenants === 0) return [{ scope: 'global', policy: 'fleet', rule, amount }]
  return [
    { scope: 'global', policy: 'rpm', rule: generous, amount: 1 },
    { scope: `tenant:t${(i + Number(WORKER)) % tenants}`, policy: 'fleet', rule, amount },
    { scope: `user:u${i % 17}`, policy: 'rpm', rule: generous, amount: 1 },
  ]
}

async function main() {
  let client: RedisClientLike
  let quit: () => Promise<unknown>
  const nodes = CLUSTER_NODES?.split(',').map((address) => {
    const [host, port] = address.split(':')
    return { host: host as string, port: Number(port) }
  })
  if (nodes && CLIENT === 'ioredis') {
    const cluster = new Cluster(nodes)
    client = cluster
    quit = () => cluster.quit()
  } else if (nodes) {
    const cluster = createCluster({
      rootNodes: nodes.map(({ host, port }) => ({ url: `redis://${host}:${port}` })),
    })
    cluster.on('error', () => {})
    await cluster.connect()
    client = cluster as unknown as RedisClientLike
    quit = () => cluster.close()
  } else if (CLIENT === 'ioredis') {
    const io = new Redis(REDIS_URL as string)
    client = io
    quit = () => io.quit()
  } else {
    const nodeRedis = createClient({ url: REDIS_URL as string })
    nodeRedis.on('error', () => {})
    await nodeRedis.connect()
    client = nodeRedis as unknown as RedisClientLike
    quit = () => nodeRedis.quit()
  }
  const store = redisStore({ client, prefix: PREFIX as string, timeoutMs: 30_000, fallback: 'deny' })
  const lines = process.stdin.setEncoding('utf8')[Symbol.asyncIterator]()
  process.stdout.write('ready\n')
  await lines.next()

  const ids = Array.from({ length: count }, (_, i) => `w${WORKER}-${i}`)
  const results = await Promise.all(
    ids.map((id) => store.reserve({ id, charges: chargesOf(Number(id.split('-')[1])), leaseMs: 60_000 })),
  )
  const admitted = ids.filter((_, i) => results[i]?.ok)
  const byTenant: Record<string, number> = {}
  for (const [i, result] of results.entries()) {
    const tenant = chargesOf(i).find((charge) => charge.scope.startsWith('tenant:'))?.scope
    if (result.ok && tenant) byTenant[tenant] = (byTenant[tenant] ?? 0) + 1
  }
  // Settle only once every instance has reserved: a settle frees budget, which would admit more.
  process.stdout.write('reserved\n')
  await lines.next()
  // Settle each admitted call with its own "actual" cost: at most the hold, different per id.
  let settledNanos = 0
  const settledByTenant: Record<string, number> = {}
  await Promise.all(
    admitted.map(async (id, i) => {
      const cost = amount - ((i * 7_919 + Number(WORKER) * 104_729) % 1_000_003)
      const settled = await store.settle({ id, actual: { costNanos: cost, tokens: 0 } })
      if (settled.status !== 'settled') throw new Error(`settle ${id}: ${settled.status}`)
      settledNanos += cost
      const tenant = chargesOf(Number(id.split('-')[1])).find((c) => c.scope.startsWith('tenant:'))?.scope
      if (tenant) settledByTenant[tenant] = (settledByTenant[tenant] ?? 0) + cost
    }),
  )
  const report = {
    admitted: admitted.length,
    denied: count - admitted.length,
    settledNanos,
    byTenant,
    settledByTenant,
  }
  process.stdout.write(`${JSON.stringify(report)}\n`)
  await quit()
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`)
  process.exit(1)
})
