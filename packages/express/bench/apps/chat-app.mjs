// The Express chat route under bench, in its own process: one OpenAI client shared by every request,
// through keyguard() and keyguardFetch() when BENCH_KEYGUARD=1 (a request and a spend limit per
// tenant, memory store), straight to BENCH_UPSTREAM with the key otherwise.
import { createKeyguard, requestLimit, spendLimit, usd } from '@keyguard/core'
import { exampleMockKey } from '@keyguard/testing'
import express from 'express'
import OpenAI from 'openai'
import { keyguard, keyguardErrorHandler, keyguardFetch } from '../../dist/index.js'

const upstream = process.env.BENCH_UPSTREAM
const withKeyguard = process.env.BENCH_KEYGUARD === '1'
const app = express()
let openai = new OpenAI({ apiKey: exampleMockKey, baseURL: upstream, maxRetries: 0 })
if (withKeyguard) {
  const guard = createKeyguard({
    key: exampleMockKey,
    upstream: { baseUrl: upstream },
    limits: [
      requestLimit({ scope: 'tenant', limit: 1e9, windowMs: 60_000 }),
      spendLimit({ scope: 'tenant', limit: usd(1e6), period: 'month' }),
    ],
  })
  app.use(keyguard({ guard, scope: (req) => ({ tenant: req.get('x-tenant') }) }))
  openai = new OpenAI({ apiKey: 'unused', fetch: keyguardFetch(), maxRetries: 0 })
}
const body = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], max_tokens: 50 }
app.post('/chat', async (_req, res, next) => {
  try {
    res.json(await openai.chat.completions.create(body))
  } catch (error) {
    next(error)
  }
})
app.use(keyguardErrorHandler())
const server = app.listen(0, '127.0.0.1', () =>
  process.stdout.write(`listening http://127.0.0.1:${server.address().port}/chat\n`),
)
// Exit cleanly on stop, so a --cpu-prof run writes its profile.
process.on('SIGTERM', () => process.exit(0))
