// express-with-vs-without: a chat route with keyguard() (memory store) over the same route without it,
// both forwarding to the mock upstream on loopback with openai-node.

import * as core from '@keyguard/core'
import * as testing from '@keyguard/testing'
import autocannon from 'autocannon'
import express from 'express'
import OpenAI from 'openai'
import { guardedMockUpstream, reportWithVsWithout } from '../../../scripts/bench-kit.mjs'
import { getKeyguard, keyguard, keyguardErrorHandler } from '../dist/index.js'

const { upstream, guard, body, key } = await guardedMockUpstream({ core, testing })

async function serve(withKeyguard) {
  const app = express()
  if (withKeyguard) app.use(keyguard({ guard, scope: (req) => ({ tenant: req.get('x-tenant') }) }))
  app.post('/chat', async (req, res, next) => {
    try {
      // Both routes build their client per request, as a route that scopes by request does.
      const openai = withKeyguard
        ? new OpenAI({ apiKey: 'unused', fetch: getKeyguard(req).fetch, maxRetries: 0 })
        : new OpenAI({ apiKey: key, baseURL: upstream.url, maxRetries: 0 })
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
await reportWithVsWithout('express-with-vs-without', 'Express', { autocannon, withIt, without, upstream })
