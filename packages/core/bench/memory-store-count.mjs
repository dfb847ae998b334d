// Instruction counts of one side of memory-store.bench.mjs, steadier than wall time on a busy machine:
//   valgrind --tool=callgrind --callgrind-out-file=/dev/null node bench/memory-store-count.mjs keyguard 0
//   valgrind --tool=callgrind --callgrind-out-file=/dev/null node bench/memory-store-count.mjs keyguard 20000
// and the same with `rlf`: the difference of the two totals ÷ 20000 is the instructions per call.
// A third argument spreads the calls over that many tenants (default 100), each given one call first,
// as memory-store-tenants.worker.mjs does: `keyguard 20000 100000` counts a store past `maxKeys`.
// KEYGUARD_DIST=<path to an index.js> counts another build (a copy of an earlier dist, for before/after).
import { RateLimiterMemory } from 'rate-limiter-flexible'
import { keyguardCall, rlfCall } from './memory-store-work.mjs'

const { memoryStore } = await import(process.env.KEYGUARD_DIST ?? '../dist/index.js')
const [side, count, tenantsArg] = process.argv.slice(2)
const tenants = Number(tenantsArg ?? 100)
const stride = tenants > 100 ? 7_919 : 1
const pick = (n) => (n * stride) % tenants
const call = side === 'rlf' ? rlfCall(RateLimiterMemory, pick) : keyguardCall(memoryStore(), pick)
// warm-up: optimized code, as in a long-running app, and every tenant seen once
for (let n = 0; n < Math.max(50_000, tenants); n++) await call()
for (let n = 0; n < Number(count); n++) await call()
