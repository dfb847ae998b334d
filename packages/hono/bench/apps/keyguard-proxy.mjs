// The keyguard proxy under bench: openaiProxy() on @hono/node-server, 1,001 virtual keys, a guard with
// three limits per tenant (requests, tokens… see below, memory store) in front of BENCH_UPSTREAM.
import { serve } from '@hono/node-server'
import { concurrencyLimit, createKeyguard, requestLimit, spendLimit, usd } from '@keyguard/core'
import { exampleMockKey } from '@keyguard/testing'
import { Hono } from 'hono'
import { openaiProxy } from '../../dist/index.js'
import { benchVirtualKey } from './shared.mjs'

const guard = createKeyguard({
  key: exampleMockKey,
  upstream: { baseUrl: process.env.BENCH_UPSTREAM },
  limits: [
    requestLimit({ scope: 'tenant', limit: 1e9, windowMs: 60_000 }),
    spendLimit({ scope: 'tenant', limit: usd(1e6), period: 'month' }),
    concurrencyLimit({ scope: 'tenant', limit: 1000 }),
  ],
})
const keys = { [benchVirtualKey]: { tenant: 't1' } }
for (let index = 0; index < 1000; index++) keys[`kg-other-${index}`] = { tenant: `t${index + 2}` }
const app = new Hono()
app.use('/v1/*', openaiProxy({ guard, keys, ignoreWarnings: ['no-wait-until'] }))
serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, ({ port }) =>
  process.stdout.write(`listening http://127.0.0.1:${port}/v1\n`),
)
// Exit cleanly on stop, so a --cpu-prof run writes its profile.
process.on('SIGTERM', () => process.exit(0))
