// A worker that takes concurrency slots and then hangs, holding them, until it is killed: prints
// "held" once its reservations are in Redis. The test kills it with SIGKILL, as a crash would.
import { Redis } from 'ioredis'
import { redisStore } from '../redis-store'

const { REDIS_URL, PREFIX, SLOTS, LIVE_LEASE_MS } = process.env as Record<string, string>

async function main() {
  const client = new Redis(REDIS_URL as string)
  const store = redisStore({
    client,
    prefix: PREFIX as string,
    timeoutMs: 5000,
    fallback: 'deny',
    liveLeaseMs: Number(LIVE_LEASE_MS),
  })
  const rule = { kind: 'concurrency' as const, limit: Number(SLOTS) }
  for (let i = 0; i < Number(SLOTS); i++) {
    const reserved = await store.reserve({
      id: `held-${i}`,
      charges: [{ scope: 'tenant:crash', policy: 'streams', rule, amount: 1 }],
      // the guard's default lease: what a crash used to block the slots for
      leaseMs: 600_000,
    })
    if (!reserved.ok) throw new Error('the slots were not free')
  }
  process.stdout.write('held\n')
  // the streams never end: the process only renews, until it is killed
  setInterval(() => {}, 1 << 30)
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`)
  process.exit(1)
})
