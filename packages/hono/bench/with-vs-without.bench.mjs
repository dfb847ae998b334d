// hono-with-vs-without: a chat route with keyguard() (memory store) over the same route without it,
// both on @hono/node-server and forwarding to the mock upstream on loopback with openai-node.
import { serve } from '@hono/node-server'
import { createKeyguard, requestLimit, spendLimit, usd } from '@keyguard/core'
import { createMockOpenAI, exampleMockKey } from '@keyguard/testing'
import autocannon from 'autocannon'
import { Hono } from 'hono'
import OpenAI from 'openai'
import { httpRatio, report } from '../../../scripts/bench-kit.mjs'
import { keyguard } from '../dist/index.js'

const upstream = await createMockOpenAI({ validKeys: [exampleMockKey] }).listen()
const body = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], max_tokens: 50 }
const guard = createKeyguard({
  key: exampleMockKey,
  baseUrl: upstream.url,
  limits: [
    requestLimit({ scope: 'tenant', limit: 1e9, windowMs: 60_000 }),
    spendLimit({ scope: 'tenant', limit: usd(1e6), period: 'month' }),
  ],
})

async function start(withKeyguard) {
  const app = new Hono()
  if (withKeyguard)
    app.use(
      keyguard({
        guard,
        scope: (c) => ({ tenant: c.req.header('x-tenant') }),
        ignoreWarnings: ['no-wait-until'],
      }),
    )
  app.onError((_error, c) => c.text('cut off at shutdown', 500))
  app.post('/chat', async (c) => {
    // Both routes build their client per request, as a route that scopes by request does.
    const openai = withKeyguard
      ? new OpenAI({ apiKey: 'unused', fetch: c.get('keyguard').fetch, maxRetries: 0 })
      : new OpenAI({ apiKey: exampleMockKey, baseURL: upstream.url, maxRetries: 0 })
    return c.json(await openai.chat.completions.create(body))
  })
  const server = await new Promise((resolve) => {
    const listening = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(listening))
  })
  return { url: `http://127.0.0.1:${server.address().port}/chat`, server }
}

const [withIt, without] = await Promise.all([start(true), start(false)])
const value = await httpRatio(withIt.url, without.url, {
  autocannon,
  request: { method: 'POST', headers: { 'x-tenant': 't1' } },
})
report({
  name: 'hono-with-vs-without',
  value,
  unit: 'ratio',
  baseline: 'the same Hono chat route without keyguard, same mock upstream, autocannon in the same run',
  target: '>= 0.9',
})
for (const { server } of [withIt, without]) {
  server.closeAllConnections?.()
  server.close()
}
await upstream.close()
