// memory-store-vs-rlf-equivalent: keyguard's memory store doing reserve+settle over three limits
// (requests, tokens, spend) ÷ rate-limiter-flexible's RateLimiterMemory doing the same work (3 consume,
// 2 refunds, a record), both awaited alike, alternating in the same run.
// memory-store-1m-vs-1k-tenants: the same call spread over 1M tenants (each with money spent, so never
// evicted) ÷ over 1k tenants; each store in its own worker (its own heap), the two alternating round by
// round. memory-store-bytes-per-tenant: the heap the 1M-tenant store holds per tenant.
import { Worker } from 'node:worker_threads'
import { RateLimiterMemory } from 'rate-limiter-flexible'
import { ratio, report } from '../../../scripts/bench-kit.mjs'
import { memoryStore } from '../dist/index.js'
import { keyguardCall, rlfCall } from './memory-store-work.mjs'

const users = 100
const value = await ratio(
  keyguardCall(memoryStore(), (n) => n % users),
  rlfCall(RateLimiterMemory, (n) => n % users),
  { rounds: 7, ms: 400 },
)
report({
  name: 'memory-store-vs-rlf-equivalent',
  value,
  unit: 'ratio',
  baseline:
    'rate-limiter-flexible RateLimiterMemory doing reserve+settle over 3 limits: 3 consume + 2 reward + a record, both sides awaited, 100 tenants',
  target: '>= 1.0',
})

/** A worker holding a store filled with `tenants` tenants; `run(ms)` answers its calls per second. */
const tenantsWorker = async (tenants) => {
  const worker = new Worker(new URL('./memory-store-tenants.worker.mjs', import.meta.url), {
    workerData: { tenants },
  })
  const answers = []
  worker.on('message', (message) => answers.shift()?.(message))
  const ask = (message) =>
    new Promise((resolve, reject) => {
      answers.push(resolve)
      worker.once('error', reject)
      worker.postMessage(message)
    })
  const filled = await ask({ type: 'fill' })
  return { filled, run: (ms) => ask({ type: 'run', ms }), close: () => worker.terminate() }
}

const small = await tenantsWorker(1_000)
const large = await tenantsWorker(1_000_000)
const ratios = []
for (let round = 0; round < 7; round++) {
  const few = (await small.run(400)).opsPerSecond
  const many = (await large.run(400)).opsPerSecond
  ratios.push(many / few)
}
ratios.sort((a, b) => a - b)
report({
  name: 'memory-store-1m-vs-1k-tenants',
  value: ratios[Math.floor(ratios.length / 2)],
  unit: 'ratio',
  baseline:
    'the same reserve+settle over 3 limits spread over 1k tenants; each store in its own worker, alternating rounds',
  target: '>= 0.5',
})
report({
  name: 'memory-store-bytes-per-tenant',
  value: large.filled.bytesPerTenant,
  unit: 'bytes',
  baseline: 'heap after gc, 1M tenants with spend recorded, minus the empty store, per tenant',
  target: null,
})
await small.close()
await large.close()
