import {
  createKeyguard,
  formatUsd,
  type Keyguard,
  type KeyguardOptions,
  requestLimit,
  spendLimit,
  usd,
} from '@keyguard/core'
import { getKeyguard, keyguard, keyguardErrorHandler, openaiProxy } from '@keyguard/express'
import type { PostgresLedger } from '@keyguard/postgres'
import express from 'express'
import OpenAI from 'openai'

/** Who is calling, as the app's authentication establishes it. */
export interface Account {
  tenant: string
  user: string
}

/**
 * The example's sign-in: `Authorization: Bearer demo-acme` is ana at acme, `demo-globex` is gus at
 * globex. A stand-in for real authentication (a session, passport, a verified JWT): what matters is
 * that the tenant who pays comes from a credential the server checked, never from a header the
 * caller writes, or any caller could bill any tenant.
 */
export const demoAccounts: ReadonlyMap<string, Account> = new Map([
  ['demo-acme', { tenant: 'acme', user: 'ana' }],
  ['demo-globex', { tenant: 'globex', user: 'gus' }],
])

/** What the app needs from outside: the key (or the mock's) and where its logs go. */
export interface AppOptions {
  key: string
  /**
   * How OpenAI is reached: the mock's `fetch` when there is no key, or the `baseUrl` of a mock on
   * loopback. @default OpenAI itself
   */
  upstream?: KeyguardOptions['upstream']
  /** Hard monthly spend limit per tenant. @default usd(0.0005): tiny, so the 402 shows after a few calls. */
  tenantMonthlyLimit?: number
  /** Virtual keys for the /v1 proxy: hash (or key) → scope. */
  virtualKeys?: Record<string, { tenant: string }>
  /** Bearer token → account for `/chat` and `/usage`. @default demoAccounts */
  accounts?: ReadonlyMap<string, Account>
  /** A durable record of every settled call (`openLedger(DATABASE_URL)`); `GET /ledger` shows it. @default none */
  ledger?: PostgresLedger
  log?: (line: string) => void
}

/** The guard: each tenant may spend a little per month (warned at 50% and 80%), each user 20 requests a minute. */
export function createGuard({
  key,
  upstream,
  tenantMonthlyLimit = usd(0.0005),
  ledger,
  log = console.log,
}: AppOptions): Keyguard {
  const guard = createKeyguard({
    key,
    ...(ledger ? { ledger } : {}),
    ...(upstream ? { upstream } : {}),
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
  app.use(authenticate(options.accounts ?? demoAccounts))
  app.use(
    keyguard({
      guard,
      // Who pays is who signed in: the account authenticate() verified, never a client header.
      scope: (req) => req.account && { tenant: req.account.tenant, user: req.account.user },
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
  app.get('/ledger', async (req, res) => {
    const { ledger } = options
    if (!ledger) {
      res.status(404).json({ ledger: 'off', hint: 'set DATABASE_URL to record every call in Postgres' })
      return
    }
    // writes are batched off the request path: flush so this answer includes the latest calls
    await ledger.flush()
    const tenant = req.account?.tenant as string
    res.json({ tenant, spend: await ledger.spend({ where: { tenant }, groupBy: ['user', 'model'] }) })
  })
  const log = (line: string) => (options.log ?? console.log)(line)
  app.use(keyguardErrorHandler({ logger: { warn: log, error: log } }))
  return { app, guard }
}

/** Answers 401 unless the bearer token names an account; sets `req.account` for the routes after it. */
function authenticate(accounts: ReadonlyMap<string, Account>): express.RequestHandler {
  return function authenticateBearer(req, res, next) {
    const token = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '')?.[1]
    const account = token === undefined ? undefined : accounts.get(token)
    if (!account) {
      res.status(401).set('www-authenticate', 'Bearer').type('application/problem+json').json({
        title: 'Unauthorized',
        status: 401,
        detail:
          'Sign in with Authorization: Bearer <token> (this example accepts demo-acme and demo-globex).',
      })
      return
    }
    req.account = account
    next()
  }
}

declare global {
  namespace Express {
    interface Request {
      /** The signed-in caller, set by authenticate(). */
      account?: Account
    }
  }
}
