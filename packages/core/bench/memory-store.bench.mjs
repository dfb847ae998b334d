// memory-store-vs-rate-limiter-flexible: reserve+settle pairs per second, each checking three
// policies (requests, tokens, spend) atomically, ÷ three RateLimiterMemory.consume calls, same run.
import { RateLimiterMemory } from 'rate-limiter-flexible'
import { ratio, report } from '../../../scripts/bench-kit.mjs'
import { memoryStore } from '../dist/index.js'

const store = memoryStore()
const period = { id: '2026-11', endsAt: Date.UTC(2099, 0, 1) }
const huge = 1e12
const rules = [
  { policy: 'rpm', rule: { kind: 'requests', limit: huge, windowMs: 60_000 }, amount: 1 },
  { policy: 'tpm', rule: { kind: 'tokens', capacity: huge, refillPerSecond: huge }, amount: 500 },
  { policy: 'spend', rule: { kind: 'spend', limitNanos: null, period, softNanos: [] }, amount: 1_000 },
]
let n = 0
const keyguardPair = () => {
  const id = `r${n++}`
  const scope = `user:u${n % 100}`
  // the charges a guard builds for each call: plain literals, as chargesFor makes them
  const charges = [
    { scope, policy: rules[0].policy, rule: rules[0].rule, amount: rules[0].amount },
    { scope, policy: rules[1].policy, rule: rules[1].rule, amount: rules[1].amount },
    { scope, policy: rules[2].policy, rule: rules[2].rule, amount: rules[2].amount },
  ]
  store.reserve({ id, leaseMs: 60_000, charges })
  store.settle({ id, actual: { costNanos: 900, tokens: 450 } })
}

const requests = new RateLimiterMemory({ points: huge, duration: 60 })
const tokens = new RateLimiterMemory({ points: huge, duration: 60 })
const spend = new RateLimiterMemory({ points: huge, duration: 86_400 })
let m = 0
const baselineTriple = async () => {
  const key = `u${m++ % 100}`
  await requests.consume(key, 1)
  await tokens.consume(key, 500)
  await spend.consume(key, 1_000)
}

const value = await ratio(keyguardPair, baselineTriple, { rounds: 5, ms: 400 })
report({
  name: 'memory-store-vs-rate-limiter-flexible',
  value,
  unit: 'ratio',
  baseline: 'rate-limiter-flexible RateLimiterMemory: 3 consume calls (requests, tokens, spend) per pair',
  target: '>= 1.0',
})
