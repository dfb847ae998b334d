// A production-shaped Worker: hono, @keyguard/hono in front of a chat route, openai-node through the
// guard's fetch. The OpenAI key and base URL come from the bindings, as on Cloudflare.
import { createKeyguard, requestLimit, spendLimit, usd } from '@keyguard/core'
import { keyguard, keyguardErrorHandler } from '@keyguard/hono'
import { Hono } from 'hono'
import OpenAI from 'openai'

const app = new Hono()
app.use(
  '/chat',
  keyguard({
    guard: (bindings) =>
      createKeyguard({
        key: bindings.OPENAI_API_KEY,
        limits: [
          spendLimit({ scope: 'tenant', limit: usd(5), period: 'day' }),
          requestLimit({ scope: 'tenant', limit: 60, windowMs: 60_000 }),
        ],
      }),
    scope: (c) => ({ tenant: c.req.header('x-tenant') ?? 'anonymous' }),
    ignoreWarnings: ['no-wait-until'],
  }),
)
app.post('/chat', async (c) => {
  const openai = new OpenAI({ apiKey: 'held-by-keyguard', fetch: c.get('keyguard').fetch, maxRetries: 0 })
  const completion = await openai.chat.completions.create({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'Say hello in five words.' }],
    max_completion_tokens: 50,
  })
  return c.json({ reply: completion.choices[0]?.message.content })
})
app.onError(keyguardErrorHandler())

export default app
