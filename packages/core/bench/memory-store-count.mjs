// Instruction counts of one side of memory-store.bench.mjs, steadier than wall time on a busy machine:
//   valgrind --tool=callgrind --callgrind-out-file=/dev/null node bench/memory-store-count.mjs keyguard 0
//   valgrind --tool=callgrind --callgrind-out-file=/dev/null node bench/memory-store-count.mjs keyguard 20000
// and the same with `rlf`: the difference of the two totals ÷ 20000 is the instructions per call.
import { RateLimiterMemory } from 'rate-limiter-flexible'
import { memoryStore } from '../dist/index.js'
import { keyguardCall, rlfCall } from './memory-store-work.mjs'

const [side, count] = process.argv.slice(2)
const users = 100
const call =
  side === 'rlf'
    ? rlfCall(RateLimiterMemory, (n) => n % users)
    : keyguardCall(memoryStore(), (n) => n % users)
for (let n = 0; n < 50_000; n++) await call() // warm-up: optimized code, as in a long-running app
for (let n = 0; n < Number(count); n++) await call()
