// One app instance of the fleet test: connects its own client, waits for "go" on stdin, fires its
// reservations all at once, settles the admitted ones, and prints one JSON line with what happened.
import { Redis } from 'ioredis'
import { createClient } from 'redis'
import type { RedisClientLike } from '../../client/redis-client'
import { redisStore } from '../redis-store'

const { REDIS_URL, PREFIX, CLIENT, WORKER, COUNT, AMOUNT, LIMIT, ENDS_AT } = process.env as Record<
  string,
  string
>
const count = Number(COUNT)
const amount = Number(AMOUNT)
const rule = {
  kind: 'spend' as const,
  limitNanos: Number(LIMIT),
  period: { id: 'fleet', endsAt: Number(ENDS_AT) },
  softNanos: [],
}

async function main() {
  let client: RedisClientLike
  let quit: () => Promise<unknown>
  if (CLIENT === 'ioredis') {
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
    ids.map((id) =>
      store.reserve({ id, charges: [{ scope: 'global', policy: 'fleet', rule, amount }], leaseMs: 60_000 }),
    ),
  )
  const admitted = ids.filter((_, i) => results[i]?.ok)
  // Settle only once every instance has reserved: a settle frees budget, which would admit more.
  process.stdout.write('reserved\n')
  await lines.next()
  // Settle each admitted call with its own "actual" cost: at most the hold, different per id.
  let settledNanos = 0
  await Promise.all(
    admitted.map(async (id, i) => {
      const cost = amount - ((i * 7_919 + Number(WORKER) * 104_729) % 1_000_003)
      const settled = await store.settle({ id, actual: { costNanos: cost, tokens: 0 } })
      if (settled.status !== 'settled') throw new Error(`settle ${id}: ${settled.status}`)
      settledNanos += cost
    }),
  )
  process.stdout.write(
    `${JSON.stringify({ admitted: admitted.length, denied: count - admitted.length, settledNanos })}\n`,
  )
  await quit()
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`)
  process.exit(1)
})
