// proxy-vs-bare-forwarder and proxy-vs-portkey-gateway: JSON chat completions per second at 16
// clients through keyguard's openaiProxy() (Hono, 1,001 virtual keys, 3 limits per tenant), through a
// bare Hono forwarder, and through @portkey-ai/gateway, each app in its own process, all three in
// front of one mock upstream in its own process; autocannon here is the load generator.
import { exampleMockKey } from '@keyguard/testing'
import autocannon from 'autocannon'
import { report } from '../../../scripts/bench-kit.mjs'
import {
  medianRatio,
  roundRobinRps,
  startMockUpstream,
  startServer,
} from '../../../scripts/bench-processes.mjs'
import { benchVirtualKey } from './apps/shared.mjs'

const upstream = await startMockUpstream()
const env = { BENCH_UPSTREAM: upstream.url }
const app = (name) => startServer(new URL(`./apps/${name}.mjs`, import.meta.url).pathname, env)
const [keyguardProxy, bareForwarder, portkey] = await Promise.all([
  app('keyguard-proxy'),
  app('bare-forwarder'),
  app('portkey-gateway'),
])

const body = JSON.stringify({
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: 'Say hello to the bench.' }],
  max_tokens: 50,
})
const post = (url, headers) => ({
  url: `${url}/chat/completions`,
  request: { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body },
})
const connections = 16
const byRound = await roundRobinRps(
  {
    keyguard: post(keyguardProxy.url, { authorization: `Bearer ${benchVirtualKey}` }),
    bare: post(bareForwarder.url, {}),
    // Portkey's open-source gateway has no virtual keys: the caller sends the upstream key itself.
    portkey: post(portkey.url, {
      authorization: `Bearer ${exampleMockKey}`,
      'x-portkey-provider': 'openai',
      'x-portkey-custom-host': upstream.url,
    }),
  },
  { autocannon, connections },
)
const setup = `JSON chat at ${connections} clients; load generator, app and mock upstream in separate processes, candidates round-robin in one run, median of ${byRound.length} rounds`
report({
  name: 'proxy-vs-bare-forwarder',
  value: medianRatio(byRound, 'keyguard', 'bare'),
  unit: 'ratio',
  baseline: `a bare Hono app forwarding to the same upstream; ${setup}`,
  target: '>= 0.8',
})
report({
  name: 'proxy-vs-portkey-gateway',
  value: medianRatio(byRound, 'keyguard', 'portkey'),
  unit: 'ratio',
  baseline: `@portkey-ai/gateway (npm) forwarding to the same upstream; ${setup}`,
  target: '>= 1.2',
})
report({
  name: 'proxy-json-requests-per-second',
  value: byRound.map((figures) => figures.keyguard).sort((a, b) => a - b)[Math.floor(byRound.length / 2)],
  unit: 'req/s',
  baseline: `keyguard's openaiProxy() alone; ${setup}`,
})
for (const server of [keyguardProxy, bareForwarder, portkey, upstream]) await server.stop()
