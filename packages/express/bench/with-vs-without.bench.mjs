// express-with-vs-without: a chat route with keyguard() (memory store) over the same route without it,
// both forwarding to the mock upstream on loopback with openai-node.

import { createKeyguard, requestLimit, spendLimit, usd } from '@keyguard/core'
import { createMockOpenAI, exampleMockKey } from '@keyguard/testing'
import autocannon from 'autocannon'
import express from 'express'
import OpenAI from 'openai'
import { httpRatio, report } from '../../../scripts/bench-kit.mjs'
import { getKeyguard, keyguard, keyguardErrorHandler } from '../dist/index.js'

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

async function serve(withKeyguard) {
  const app = express()
  if (withKeyguard) app.use(keyguard({ guard, scope: (req) => ({ tenant: req.get('x-tenant') }) }))
  app.post('/chat', async (req, res, next) => {
    try {
      // Both routes build their client per request, as a route that scopes by request does.
      const openai = withKeyguard
        ? new OpenAI({ apiKey: 'unused', fetch: getKeyguard(req).fetch, maxRetries: 0 })
        : new OpenAI({ apiKey: exampleMockKey, baseURL: upstream.url, maxRetries: 0 })
      res.json(await openai.chat.completions.create(body))
    } catch (error) {
      next(error)
    }
  })
  app.use(keyguardErrorHandler())
  app.use((_error, _req, res, _next) => res.status(500).end()) // requests cut off at shutdown
  const server = app.listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  return { url: `http://127.0.0.1:${server.address().port}/chat`, server }
}

const [withIt, without] = await Promise.all([serve(true), serve(false)])
const value = await httpRatio(withIt.url, without.url, {
  autocannon,
  request: { method: 'POST', headers: { 'x-tenant': 't1' } },
})
report({
  name: 'express-with-vs-without',
  value,
  unit: 'ratio',
  baseline: 'the same Express chat route without keyguard, same mock upstream, autocannon in the same run',
  target: '>= 0.9',
})
for (const { server } of [withIt, without]) {
  server.closeAllConnections?.()
  server.close()
}
await upstream.close()
