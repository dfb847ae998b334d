import { createKeyguard, formatUsd, type Keyguard, requestLimit, spendLimit, usd } from '@keyguard/core'
import { getKeyguard, keyguard, keyguardErrorHandler, openaiProxy } from '@keyguard/express'
import express from 'express'
import OpenAI from 'openai'

/** What the app needs from outside: the key (or the mock's) and where its logs go. */
export interface AppOptions {
  key: string
  /** The mock's fetch when there is no key; without it the guard talks to OpenAI. */
  fetch?: typeof fetch
  /** Where the upstream API lives, such as a mock on loopback. @default 'https://api.openai.com/v1' */
  baseUrl?: string
  /** Hard monthly spend limit per tenant. @default usd(0.0005): tiny, so the 429 shows after a few calls. */
  tenantMonthlyLimit?: number
  /** Virtual keys for the /v1 proxy: hash (or key) → scope. */
  virtualKeys?: Record<string, { tenant: string }>
  log?: (line: string) => void
}

/** The guard: each tenant may spend a little per month (warned at 50% and 80%), each user 20 requests a minute. */
export function createGuard({
  key,
  fetch,
  baseUrl,
  tenantMonthlyLimit = usd(0.0005),
  log = console.log,
}: AppOptions): Keyguard {
  const guard = createKeyguard({
    key,
    ...(fetch ? { fetch } : {}),
    ...(baseUrl ? { baseUrl } : {}),
    limits: [
      spendLimit({
        name: 'monthly',
        scope: 'tenant',
        limit: tenantMonthlyLimit,
        period: 'month',
        softAt: [0.5, 0.8],
      }),
      // Proxy callers name a tenant, not a user: this limit applies to the routes that name one.
      requestLimit({ name: 'rpm', scope: 'user', limit: 20, windowMs: 60_000, whenMissing: 'skip' }),
    ],
  })
  guard.on('soft-limit', (event) =>
    log(
      `soft limit: ${event.scope} has spent ${formatUsd(event.usedNanos)} (warned at ${formatUsd(event.thresholdNanos)})`,
    ),
  )
  return guard
}

/** The Express app: POST /chat for the app's own clients, /v1/* for OpenAI clients with a virtual key. */
export function createApp(options: AppOptions): { app: express.Express; guard: Keyguard } {
  const guard = createGuard(options)
  const app = express()
  app.use(
    '/v1',
    openaiProxy({
      guard,
      keys: options.virtualKeys ?? {},
      costHeaders: true,
      // This example shows its callers their spend too; spend headers are off by default.
      rateLimitHeaders: { spend: true },
    }),
  )
  app.use(express.json())
  app.use(
    keyguard({
      guard,
      scope: (req) => {
        const tenant = req.get('x-tenant')
        return tenant ? { tenant, user: req.get('x-user') ?? 'anonymous' } : undefined
      },
      costHeaders: true,
    }),
  )
  app.post('/chat', async (req, res) => {
    const openai = new OpenAI({ apiKey: 'held-by-keyguard', fetch: getKeyguard(req).fetch, maxRetries: 0 })
    const completion = await openai.chat.completions.create({
      model: req.body?.model ?? 'gpt-4o-mini',
      messages: [{ role: 'user', content: String(req.body?.message ?? 'Hello!') }],
      max_completion_tokens: 200,
    })
    res.json({ reply: completion.choices[0]?.message.content, usage: completion.usage })
  })
  app.get('/usage', async (req, res) => {
    res.json(await getKeyguard(req).usage())
  })
  app.use(keyguardErrorHandler({ logger: { warn: (line) => (options.log ?? console.log)(line) } }))
  return { app, guard }
}
