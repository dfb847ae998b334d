import { createKeyguard, formatUsd, requestLimit, spendLimit, usd } from '@keyguard/core'
import { keyguard, keyguardErrorHandler } from '@keyguard/hono'
import { exampleUpstream } from '@keyguard/testing'
import { Hono } from 'hono'
import OpenAI from 'openai'

/**
 * The Hono app, the same on Node, Bun and Workers. The guard is built once per set of bindings:
 * with OPENAI_API_KEY it talks to OpenAI, without it to the mock upstream, in-process.
 */
export const app = new Hono()

app.use(
  '/chat',
  keyguard({
    guard: (bindings) => {
      const key = typeof bindings.OPENAI_API_KEY === 'string' ? bindings.OPENAI_API_KEY : undefined
      // The mock reports 150 output tokens an answer, so the budget below runs out after a few calls.
      const upstream = exampleUpstream(key, { usage: { completionTokens: 150 } })
      console.log(`keyguard Hono example; upstream: ${upstream.description}`)
      const guard = createKeyguard({
        ...upstream.guardOptions,
        limits: [
          spendLimit({ name: 'daily', scope: 'tenant', limit: usd(0.0005), period: 'day', softAt: [0.5] }),
          requestLimit({ name: 'rpm', scope: 'tenant', limit: 30, windowMs: 60_000 }),
        ],
      })
      guard.on('soft-limit', (event) =>
        console.warn(`soft limit: ${event.scope} spent ${formatUsd(event.usedNanos)}`),
      )
      return guard
    },
    scope: (c) => {
      const tenant = c.req.header('x-tenant')
      return tenant ? { tenant } : undefined
    },
    costHeaders: true,
    ignoreWarnings: ['no-wait-until'],
  }),
)

app.post('/chat', async (c) => {
  const { message = 'Hello!' } = await c.req
    .json<{ message?: string }>()
    .catch(() => ({ message: undefined }))
  const openai = new OpenAI({ apiKey: 'held-by-keyguard', fetch: c.get('keyguard').fetch, maxRetries: 0 })
  const completion = await openai.chat.completions.create({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: message }],
    max_completion_tokens: 200,
  })
  return c.json({ reply: completion.choices[0]?.message.content, usage: completion.usage })
})

app.onError(
  keyguardErrorHandler({ logger: console, fallback: (_error, c) => c.json({ error: 'internal' }, 500) }),
)
