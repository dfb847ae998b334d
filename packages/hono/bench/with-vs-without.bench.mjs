// hono-with-vs-without: a chat route with keyguard() (memory store) over the same route without it,
// both on @hono/node-server and forwarding to the mock upstream on loopback with openai-node.
import { serve } from '@hono/node-server'
import * as core from '@keyguard/core'
import * as testing from '@keyguard/testing'
import autocannon from 'autocannon'
import { Hono } from 'hono'
import OpenAI from 'openai'
import { guardedMockUpstream, reportWithVsWithout } from '../../../scripts/bench-kit.mjs'
import { keyguard } from '../dist/index.js'

const { upstream, guard, body, key } = await guardedMockUpstream({ core, testing })

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
      : new OpenAI({ apiKey: key, baseURL: upstream.url, maxRetries: 0 })
    return c.json(await openai.chat.completions.create(body))
  })
  const server = await new Promise((resolve) => {
    const listening = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(listening))
  })
  return { url: `http://127.0.0.1:${server.address().port}/chat`, server }
}

const [withIt, without] = await Promise.all([start(true), start(false)])
await reportWithVsWithout('hono-with-vs-without', 'Hono', { autocannon, withIt, without, upstream })
