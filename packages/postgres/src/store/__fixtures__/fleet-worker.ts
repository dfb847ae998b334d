// One app instance of the fleet test: its own pool, waits for "go" on stdin, fires its reservations
// all at once, settles the admitted ones, and prints one JSON line with what happened.
import type { Charge } from '@keyguard/core'
import pg from 'pg'
import { postgresStore } from '../postgres-store'

const { DATABASE_URL, SCHEMA, WORKER, COUNT, AMOUNT, LIMIT, ENDS_AT } = process.env as Record<string, string>
const count = Number(COUNT)
const amount = Number(AMOUNT)
const rule = (limitNanos: number | null) => ({
  kind: 'spend' as const,
  limitNanos,
  period: { id: 'fleet', endsAt: Number(ENDS_AT) },
  softNanos: [],
})

async function main() {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 3, connectionTimeoutMillis: 60_000 })
  const store = postgresStore({ pool, schema: SCHEMA as string })
  const lines = process.stdin.setEncoding('utf8')[Symbol.asyncIterator]()
  process.stdout.write('ready\n')
  await lines.next()

  // Two states per reserve, named in opposite orders by odd and even workers: row locks taken in
  // charge order would deadlock; the store's key order must not.
  const charges: Charge[] = [
    { scope: 'global', policy: 'fleet', rule: rule(Number(LIMIT)), amount },
    { scope: 'tenant:fleet', policy: 'fleet', rule: rule(null), amount },
  ]
  if (Number(WORKER) % 2 === 1) charges.reverse()
  const ids = Array.from({ length: count }, (_, i) => `w${WORKER}-${i}`)
  const results = await Promise.all(ids.map((id) => store.reserve({ id, charges, leaseMs: 60_000 })))
  const admitted = ids.filter((_, i) => results[i]?.ok)
  // Settle only once every instance has reserved: a settle frees budget, which would admit more.
  process.stdout.write('reserved\n')
  await lines.next()
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
  await pool.end()
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`)
  process.exit(1)
})
