import { createKeyguard, requestLimit, spendLimit, usd } from '@keyguard/core'
import { createMockOpenAI, exampleMockKey } from '@keyguard/testing'
import express from 'express'
import OpenAI from 'openai'
import { describe, expect, it } from 'vitest'
import { listen } from './__fixtures__/listen'
import { keyguardErrorHandler } from './error-handler'
import { getKeyguard, keyguard } from './keyguard'

// A chat route with a client built per request on getKeyguard(req).fetch.
const chatThroughGetKeyguard: express.RequestHandler = async (req, res, next) => {
  try {
    const openai = new OpenAI({ apiKey: 'unused', fetch: getKeyguard(req).fetch, maxRetries: 0 })
    res.json(
      await openai.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'hi' }],
      }),
    )
  } catch (error) {
    next(error)
  }
}

describe('getKeyguard', () => {
  it('says to register keyguard() first when it is missing', async () => {
    const app = express()
    app.get('/', (req, res) => {
      try {
        getKeyguard(req)
      } catch (error) {
        res.status(500).send((error as Error).message)
      }
    })
    const server = await listen(app)
    const response = await fetch(server.origin)
    expect(await response.text()).toMatch(/^register keyguard\(\) before getKeyguard\(\)/)
    await server.close()
  })
})

describe('keyguard', () => {
  it('refuses every call with scope.missing when no scope function names the tenant a limit is keyed by', async () => {
    const mock = createMockOpenAI({ validKeys: [exampleMockKey] })
    const guard = createKeyguard({
      key: exampleMockKey,
      upstream: { fetch: mock.fetch },
      logger: { warn() {}, error() {} },
      limits: [spendLimit({ scope: 'tenant', limit: usd(0.000000001), period: 'month' })],
    })
    const app = express()
    app.use(keyguard({ guard }))
    app.post('/chat', chatThroughGetKeyguard)
    app.use(keyguardErrorHandler())
    const server = await listen(app)
    try {
      for (let call = 0; call < 3; call++) {
        const response = await fetch(`${server.origin}/chat`, { method: 'POST' })
        expect(response.status).toBe(500)
        expect(await response.json()).toMatchObject({ code: 'scope.missing' })
      }
      expect(mock.requests).toHaveLength(0)
    } finally {
      await server.close()
    }
  })

  it('waits for a scope function that answers with a promise, and passes its failure to the error handler', async () => {
    const mock = createMockOpenAI({ validKeys: [exampleMockKey] })
    const guard = createKeyguard({
      key: exampleMockKey,
      upstream: { fetch: mock.fetch },
      logger: { warn() {}, error() {} },
      limits: [requestLimit({ scope: 'tenant', limit: 1, windowMs: 60_000 })],
    })
    const app = express()
    app.use(
      keyguard({
        guard,
        scope: async (req) => {
          await new Promise((resolve) => setTimeout(resolve, 1))
          if (req.get('x-tenant') === 'broken') throw new Error('the session store is down')
          return { tenant: req.get('x-tenant') }
        },
      }),
    )
    app.post('/chat', chatThroughGetKeyguard)
    app.use(keyguardErrorHandler())
    app.use((error: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(503).send(error.message)
    })
    const server = await listen(app)
    const chat = (tenant: string) =>
      fetch(`${server.origin}/chat`, { method: 'POST', headers: { 'x-tenant': tenant } })
    try {
      expect((await chat('t1')).status).toBe(200)
      // the second call of t1 meets its limit of 1: the scope the promise gave was the one charged
      expect((await chat('t1')).status).toBe(429)
      expect((await chat('t2')).status).toBe(200)
      const broken = await chat('broken')
      expect(broken.status).toBe(503)
      expect(await broken.text()).toBe('the session store is down')
      expect(mock.requests).toHaveLength(2)
    } finally {
      await server.close()
    }
  })
})
