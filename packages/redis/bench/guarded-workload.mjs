// The guarded request the Redis CPU benches measure, and rate-limiter-flexible doing the same work.
import { RateLimiterRedis } from 'rate-limiter-flexible'

/** The request limit's window: short, so a bench warmed past it ages an entry out on every reserve. */
export const windowMs = 1000

const endsAt = Date.now() + 3_600_000
const rules = {
  rpm: { kind: 'requests', limit: 1e9, windowMs },
  tpm: { kind: 'tokens', capacity: 1e12, refillPerSecond: 1e9 },
  spend: { kind: 'spend', limitNanos: 9e15, period: { id: 'bench', endsAt }, softNanos: [] },
}

/** A typical guarded request: a per-user request limit, a per-tenant token bucket, a tenant spend limit. */
export const three = (user) => [
  { scope: `user:${user}`, policy: 'rpm', rule: rules.rpm, amount: 1 },
  { scope: 'tenant:bench', policy: 'tpm', rule: rules.tpm, amount: 1200 },
  { scope: 'tenant:bench', policy: 'spend', rule: rules.spend, amount: 45_000 },
]

/** The three, and seven more of the same kinds on other scopes (key, tenant, global). */
export const ten = (user) => [
  ...three(user),
  ...['key:k1', 'tenant:bench', 'global'].map((scope) => ({
    scope,
    policy: 'rpm2',
    rule: rules.rpm,
    amount: 1,
  })),
  ...[`user:${user}`, 'global'].map((scope) => ({ scope, policy: 'tpm2', rule: rules.tpm, amount: 1200 })),
  ...[`user:${user}`, 'global'].map((scope) => ({
    scope,
    policy: 'spend2',
    rule: rules.spend,
    amount: 45_000,
  })),
]

/** `(charges) => (caller) => Promise`: reserve `charges(caller)` and settle it, one guarded request. */
export function guardedRequest(store, idPrefix) {
  let seq = 0
  return (charges) => async (caller) => {
    const id = `${idPrefix}${seq++}`
    const reserved = await store.reserve({ id, charges: charges(caller), leaseMs: 60_000 })
    if (!reserved.ok) throw new Error('bench limit too low')
    await store.settle({ id, actual: { costNanos: 31_234, tokens: 900 } })
  }
}

/**
 * rate-limiter-flexible (ioredis `client`) doing the same work: consume three limits, refund two (the
 * token and spend differences at settle), and write a record of the call with PSETEX.
 */
export function rlfEquivalent(client, keyPrefix) {
  const limiter = new RateLimiterRedis({ storeClient: client, keyPrefix, points: 1e9, duration: 1 })
  let seq = 0
  return async (caller) => {
    await Promise.all([
      limiter.consume(`user:${caller}`, 1),
      limiter.consume('tenant:bench:tpm', 1200),
      limiter.consume('tenant:bench:spend', 45_000),
    ])
    await client.psetex(`${keyPrefix}:r:${seq++}`, 600_000, 'settled')
    await Promise.all([limiter.reward('tenant:bench:tpm', 300), limiter.reward('tenant:bench:spend', 13_766)])
  }
}
