// One store with `tenants` tenants, for memory-store.bench.mjs: `fill` gives every tenant one settled
// call (money spent, so its spend state is kept), `run` answers calls per second over all of them.
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { parentPort, workerData } from 'node:worker_threads'
import { opsPerSecond } from '../../../scripts/bench-kit.mjs'
import { memoryStore } from '../dist/index.js'
import { keyguardCall } from './memory-store-work.mjs'

const { tenants } = workerData
// a worker may not take --expose-gc; the flag set at run time gives a fresh context its `gc`, so the
// heap is weighed after a full collection and bytes per tenant count only what the store keeps
setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc')
const heap = () => {
  gc()
  return process.memoryUsage().heapUsed
}
const before = heap()
const store = memoryStore()
// a fixed stride through the tenants: each call finds another tenant's states, far from the last one's
const stride = 7_919
const call = keyguardCall(store, (n) => (n * stride) % tenants)

parentPort.on('message', async (message) => {
  if (message.type === 'fill') {
    for (let n = 0; n < tenants; n++) await call()
    const bytesPerTenant = (heap() - before) / tenants
    parentPort.postMessage({ bytesPerTenant })
  } else {
    parentPort.postMessage({ opsPerSecond: await opsPerSecond(call, { ms: message.ms }) })
  }
})
