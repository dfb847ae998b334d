// The work both sides of memory-store.bench.mjs do, shared with its tenants worker and with
// instruction-count runs (`valgrind --tool=callgrind node bench/memory-store-count.mjs`).

const huge = 1e12
const period = { id: '2026-11', endsAt: Date.UTC(2099, 0, 1) }
/** The guard's three limits for a call: requests per minute, a token bucket and a monthly spend limit. */
const rules = {
  rpm: { kind: 'requests', limit: huge, windowMs: 60_000 },
  tpm: { kind: 'tokens', capacity: huge, refillPerSecond: huge },
  spend: { kind: 'spend', limitNanos: huge * 1000, period, softNanos: [] },
}
/** What each call reserves (tokens: its estimate) and what it settles at. */
const reserved = { requests: 1, tokens: 500, costNanos: 1_000 }
const actual = { tokens: 450, costNanos: 900 }

/**
 * One keyguard call against `store`: reserve three limits of one tenant, then settle, both awaited as
 * the guard awaits them. `tenant(n)` picks the tenant of the n-th call.
 */
export function keyguardCall(store, tenant) {
  let n = 0
  return async () => {
    const id = `r${n}`
    const scope = `tenant:t${tenant(n++)}`
    // the charges a guard builds for each call: plain literals, as chargesFor makes them
    const charges = [
      { scope, policy: 'rpm', rule: rules.rpm, amount: reserved.requests },
      { scope, policy: 'tpm', rule: rules.tpm, amount: reserved.tokens },
      { scope, policy: 'spend', rule: rules.spend, amount: reserved.costNanos },
    ]
    await store.reserve({ id, leaseMs: 60_000, charges })
    await store.settle({ id, actual })
  }
}

/**
 * The same call with rate-limiter-flexible: three consumes (one limiter per limit), the two refunds a
 * settle makes (tokens and spend held above the actual), and a record of the reservation kept for
 * idempotency (looked up before the consumes, as a reserve does, and by the settle), bounded like the
 * store's records. Every promise awaited. The
 * spend limiter counts a day: rate-limiter-flexible keeps a key with a timer, and one past 24.8 days overflows.
 */
export function rlfCall(RateLimiterMemory, tenant) {
  const requests = new RateLimiterMemory({ points: huge, duration: 60 })
  const tokens = new RateLimiterMemory({ points: huge, duration: 60 })
  const spend = new RateLimiterMemory({ points: huge * 1000, duration: 86_400 })
  const records = new Map()
  // the ids in creation order, a ring of the bound: the oldest leaves in O(1). (Deleting a Map's first
  // key leaves a hole that every later `keys().next()` walks over, which made this side 20× slower.)
  const bound = 100_000
  const order = new Array(bound).fill(null)
  let n = 0
  return async () => {
    const id = `r${n}`
    const key = `tenant:t${tenant(n)}`
    const slot = n++ % bound
    // a repeated reserve of the same id changes nothing, as the store's does not
    if (records.has(id)) return
    await requests.consume(key, reserved.requests)
    await tokens.consume(key, reserved.tokens)
    await spend.consume(key, reserved.costNanos)
    const record = { key, status: 'live', tokens: reserved.tokens, costNanos: reserved.costNanos }
    if (order[slot] !== null) records.delete(order[slot])
    order[slot] = id
    records.set(id, record)
    const found = records.get(id)
    found.status = 'settled'
    await tokens.reward(key, found.tokens - actual.tokens)
    await spend.reward(key, found.costNanos - actual.costNanos)
  }
}
