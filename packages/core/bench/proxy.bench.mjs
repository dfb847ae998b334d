// virtual-key-lookup-1001-vs-1, guarded-json-added-cpu-us and guarded-stream-vs-passthrough: what the
// proxy and the guard add per call, each against a baseline doing the same work or nothing.

import { ratio, report } from '../../../scripts/bench-kit.mjs'
import { createMockOpenAI } from '../../testing/dist/index.js'
import {
  concurrencyLimit,
  createKeyguard,
  keyguardResult,
  requestLimit,
  spendLimit,
  usd,
  virtualKeys,
} from '../dist/index.js'

// 1. A virtual key among 1,001 against the only key: a digest and a map lookup either way.
const presented = 'kg-bench-0000000000000000000000000000'
const many = { [presented]: { tenant: 't1' } }
for (let index = 0; index < 1000; index++) many[`kg-other-${index}`] = { tenant: `t${index + 2}` }
const keysOf1001 = virtualKeys(many)
const keysOf1 = virtualKeys({ [presented]: { tenant: 't1' } })
report({
  name: 'virtual-key-lookup-1001-vs-1',
  value: await ratio(
    () => keysOf1001.find(presented),
    () => keysOf1.find(presented),
  ),
  unit: 'ratio',
  baseline: 'the same lookup among 1 virtual key, same run',
  target: '>= 0.9',
})

// 2. CPU time the guard adds to a JSON chat call: the same calls to an upstream that answers at once
// with a ready JSON body (no network, no mock logic), with and without the guard, 3 limits per tenant.
const key = `sk-proj-${'BenchKey0'.repeat(5)}Bench8q8A`
const answer = JSON.stringify({
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1,
  model: 'gpt-4o-mini',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Hello.' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 },
})
const instantUpstream = async () => new Response(answer, { headers: { 'content-type': 'application/json' } })
const limits = () => [
  requestLimit({ scope: 'tenant', limit: 1e12, windowMs: 60_000 }),
  spendLimit({ scope: 'tenant', limit: usd(1e6), period: 'month' }),
  concurrencyLimit({ scope: 'tenant', limit: 1000 }),
]
const jsonGuard = createKeyguard({
  key,
  upstream: { fetch: instantUpstream },
  limits: limits(),
  scope: { tenant: 't1' },
})
const url = 'https://api.openai.com/v1/chat/completions'
const jsonInit = {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'Say hello.' }],
    max_tokens: 50,
  }),
}
const call = async (fetcher, init) => {
  const response = await fetcher(url, init)
  await response.arrayBuffer()
  const settled = keyguardResult(response)?.settled
  if (settled) await settled
}
const cpuMicrosPerCall = async (fetcher, calls) => {
  const start = process.cpuUsage()
  for (let index = 0; index < calls; index++) await call(fetcher, jsonInit)
  const used = process.cpuUsage(start)
  return (used.user + used.system) / calls
}
for (let index = 0; index < 3000; index++) await call(jsonGuard.fetch, jsonInit) // warm-up
const added = []
for (let round = 0; round < 7; round++) {
  globalThis.gc?.()
  const without = await cpuMicrosPerCall(instantUpstream, 5000)
  globalThis.gc?.()
  const withGuard = await cpuMicrosPerCall(jsonGuard.fetch, 5000)
  added.push(withGuard - without)
}
added.sort((a, b) => a - b)
report({
  name: 'guarded-json-added-cpu-us',
  value: added[Math.floor(added.length / 2)],
  unit: 'µs',
  baseline:
    'process CPU per call, guard.fetch minus the same call to an upstream answering at once with a ready JSON body; 3 limits, memory store, median of 7 rounds',
  target: '<= 25',
})

// 3. A 500-chunk stream through the guard against the least any body-watching guard does: a
// pull-through ReadableStream that only re-wraps the body, over the same in-process mock.
const streamMock = createMockOpenAI({
  reply: Array.from({ length: 500 }, (_, index) => `w${index}`).join(' '),
})
const streamGuard = createKeyguard({
  key,
  upstream: { fetch: streamMock.fetch },
  limits: limits(),
  scope: { tenant: 't1' },
})
const streamInit = {
  method: 'POST',
  // the mock wants a key; the guard sends its own instead
  headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
  body: JSON.stringify({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'Count.' }],
    max_tokens: 600,
    stream: true,
    stream_options: { include_usage: true },
  }),
}
const passThrough = async (target, init) => {
  const upstream = await streamMock.fetch(target, init)
  const reader = upstream.body.getReader()
  const body = new ReadableStream(
    {
      pull: (controller) =>
        reader.read().then((result) => (result.done ? controller.close() : controller.enqueue(result.value))),
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: 0 },
  )
  return new Response(body, upstream)
}
const streamCall = async (fetcher) => {
  const response = await fetcher(url, streamInit)
  if (!response.ok) throw new Error(`the stream bench got ${response.status}, not a stream`)
  await response.arrayBuffer()
  await keyguardResult(response)?.settled
  streamMock.reset()
}
report({
  name: 'guarded-stream-vs-passthrough',
  value: await ratio(
    () => streamCall(streamGuard.fetch),
    () => streamCall(passThrough),
  ),
  unit: 'ratio',
  baseline:
    'a pull-through ReadableStream re-wrapping the same 500-chunk SSE answer of the in-process mock, same run',
  target: '>= 0.9',
})
