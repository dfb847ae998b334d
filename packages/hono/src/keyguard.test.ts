import { createKeyguard, requestLimit, spendLimit, usd } from '@keyguard/core'
import { createMockOpenAI, exampleMockKey } from '@keyguard/testing'
import { Hono } from 'hono'
import OpenAI from 'openai'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { keyguardErrorHandler } from './error-handler'
import { keyguard } from './keyguard'

const silent = { warn() {}, error() {} }

describe('keyguard', () => {
  afterEach(() => {
    vi.unstubAllGlobals()
  })

  it('builds the guard from env(c) once per bindings object', async () => {
    // On Node, env(c) is process.env; on Workers, the bindings.
    vi.stubEnv('OPENAI_API_KEY', exampleMockKey)
    const built: unknown[] = []
    const app = new Hono()
    app.use(
      keyguard({
        guard: (bindings) => {
          built.push(bindings)
          return { key: String(bindings.OPENAI_API_KEY), logger: silent }
        },
        ignoreWarnings: ['no-wait-until'],
      }),
    )
    app.get('/', (c) => c.json(c.get('keyguard').scope))
    await app.request('/')
    const response = await app.request('/')
    expect(await response.json()).toEqual({})
    expect(built).toEqual([process.env])
    vi.unstubAllEnvs()
  })

  it('does not warn on Node, where settlement outlives the response anyway', async () => {
    const warnings: string[] = []
    const logger = { warn: (line: string) => warnings.push(line), error: () => {} }
    const app = new Hono()
    const guard = createKeyguard({ key: exampleMockKey, logger: silent })
    app.use(keyguard({ guard, logger }))
    app.use(keyguard({ guard, logger }))
    app.get('/', (c) => c.text('ok'))
    await app.request('/')
    await app.request('/')
    expect(warnings).toEqual([])
  })

  it('warns once per process, through the logger, on Workers without c.executionCtx.waitUntil', async () => {
    vi.stubGlobal('navigator', { userAgent: 'Cloudflare-Workers' })
    vi.resetModules() // a fresh module: the warning is once per process
    const fresh = await import('./keyguard')
    const warnings: string[] = []
    const logger = { warn: (line: string) => warnings.push(line), error: () => {} }
    const app = new Hono()
    const guard = createKeyguard({ key: exampleMockKey, logger: silent })
    app.use(fresh.keyguard({ guard, logger }))
    app.use(fresh.keyguard({ guard, logger }))
    app.get('/', (c) => c.text('ok'))
    await app.request('/')
    await app.request('/')
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(/no c\.executionCtx\.waitUntil/)
  })

  it('hands settlement to c.executionCtx.waitUntil on Workers', async () => {
    const kept: Promise<unknown>[] = []
    const app = new Hono()
    app.use(keyguard({ guard: createKeyguard({ key: exampleMockKey, logger: silent }) }))
    app.get('/', (c) => c.text('ok'))
    await app.request(
      '/',
      {},
      {},
      {
        waitUntil: (promise: Promise<unknown>) => kept.push(promise),
        passThroughOnException() {},
        props: {},
      },
    )
    expect(kept).toHaveLength(1)
  })

  it('refuses every call with scope.missing when no scope function names the tenant a limit is keyed by', async () => {
    const mock = createMockOpenAI({ validKeys: [exampleMockKey] })
    const guard = createKeyguard({
      key: exampleMockKey,
      upstream: { fetch: mock.fetch },
      logger: silent,
      limits: [spendLimit({ scope: 'tenant', limit: usd(0.000000001), period: 'month' })],
    })
    const app = new Hono()
    app.onError(keyguardErrorHandler())
    app.use(keyguard({ guard, ignoreWarnings: ['no-wait-until'] }))
    app.post('/chat', async (c) => {
      const openai = new OpenAI({ apiKey: 'unused', fetch: c.get('keyguard').fetch, maxRetries: 0 })
      const completion = await openai.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'hi' }],
      })
      return c.json(completion)
    })
    for (let call = 0; call < 3; call++) {
      const response = await app.request('/chat', { method: 'POST' })
      expect(response.status).toBe(500)
      expect(await response.json()).toMatchObject({ code: 'scope.missing' })
    }
    expect(mock.requests).toHaveLength(0)
  })

  it('waits for a scope function that answers with a promise', async () => {
    const mock = createMockOpenAI({ validKeys: [exampleMockKey] })
    const guard = createKeyguard({
      key: exampleMockKey,
      upstream: { fetch: mock.fetch },
      logger: silent,
      limits: [requestLimit({ scope: 'tenant', limit: 1, windowMs: 60_000 })],
    })
    const app = new Hono()
    app.use(
      keyguard({
        guard,
        scope: async (c) => {
          await new Promise((resolve) => setTimeout(resolve, 1))
          return { tenant: c.req.header('x-tenant') }
        },
      }),
    )
    app.onError(keyguardErrorHandler())
    app.post('/chat', async (c) => {
      const openai = new OpenAI({ apiKey: 'unused', fetch: c.get('keyguard').fetch, maxRetries: 0 })
      return c.json(
        await openai.chat.completions.create({
          model: 'gpt-4o-mini',
          messages: [{ role: 'user', content: 'hi' }],
        }),
      )
    })
    const chat = (tenant: string) => app.request('/chat', { method: 'POST', headers: { 'x-tenant': tenant } })
    expect((await chat('t1')).status).toBe(200)
    // the second call of t1 meets its limit of 1: the scope the promise gave was the one charged
    expect((await chat('t1')).status).toBe(429)
    expect((await chat('t2')).status).toBe(200)
    expect(mock.requests).toHaveLength(2)
  })
})
