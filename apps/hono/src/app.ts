import { createKeyguard, formatUsd, requestLimit, spendLimit, usd } from '@keyguard/core'
import { keyguard, keyguardErrorHandler } from '@keyguard/hono'
import { exampleUpstream } from '@keyguard/testing'
import { Hono } from 'hono'
import { bearerAuth } from 'hono/bearer-auth'
import { HTTPException } from 'hono/http-exception'
import OpenAI from 'openai'

/**
 * The example's sign-in: `Authorization: Bearer demo-acme` is tenant acme, `demo-globex` is globex.
 * A stand-in for real authentication (hono's `jwt`, a session): what matters is that the tenant who
 * pays comes from a credential the server checked, never from a header the caller writes, or any
 * caller could bill any tenant.
 */
export const demoTenants: ReadonlyMap<string, string> = new Map([
  ['demo-acme', 'acme'],
  ['demo-globex', 'globex'],
])

/** What the app's own middleware sets on the context. */
type AppEnv = { Variables: { tenant: string } }

/**
 * The Hono app, the same on Node, Bun and Workers. The guard is built once per set of bindings:
 * with OPENAI_API_KEY it talks to OpenAI, without it to the mock upstream, in-process.
 */
export const app = new Hono<AppEnv>()

// 401 with `WWW-Authenticate: Bearer` unless the token is one of demoTenants; sets c.var.tenant.
app.use(
  '/chat',
  bearerAuth<AppEnv>({
    verifyToken: (token, c) => {
      const tenant = demoTenants.get(token)
      if (tenant) c.set('tenant', tenant)
      return tenant !== undefined
    },
  }),
)
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
    // Who pays is who signed in: the tenant bearerAuth verified above, never a client header.
    scope: (c) => {
      const tenant: unknown = c.get('tenant')
      return typeof tenant === 'string' ? { tenant } : undefined
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
  keyguardErrorHandler({
    logger: console,
    // Hono's own answers (bearerAuth's 401) keep their status; anything else is a bare 500.
    fallback: (error, c) =>
      error instanceof HTTPException ? error.getResponse() : c.json({ error: 'internal' }, 500),
  }),
)
