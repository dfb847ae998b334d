import { createKeyguard, type Keyguard, requestLimit, spendLimit, usd } from '@keyguard/core'
import OpenAI from 'openai'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createMockOpenAI, type MockOpenAI } from '../mock-openai/create-mock-openai'
import { exampleMockKey } from '../mock-openai/example-upstream'

/** What the suite hands an adapter's app. */
export interface AdapterSetup {
  /** The guard (mock upstream, a 3-per-minute tenant request limit, a monthly tenant spend limit). */
  guard: Keyguard
  /** Virtual keys for the proxy, key → scope. */
  keys: Readonly<Record<string, { tenant: string }>>
  /** The proxy's body limit. */
  maxBodyBytes: number
  /**
   * What reads the request body before the proxy, as an app's body parser would, for any content type:
   * `json`, `bytes`, `text` or `form` (Express: `express.json()`, `express.raw()`, `express.text()`,
   * `express.urlencoded()` mounted before `openaiProxy`; Hono: a middleware that calls `c.req.json()`,
   * `arrayBuffer()`, `text()` or `parseBody()`). @default nothing reads it first
   */
  bodyReader?: 'json' | 'bytes' | 'text' | 'form' | undefined
  /**
   * `Set-Cookie` values the app sets on `/v1/*` before the proxy answers, each its own header, as a
   * session middleware would (Express: `res.append('set-cookie', value)`; Hono:
   * `c.header('set-cookie', value, { append: true })`). @default none
   */
  cookies?: readonly string[] | undefined
}

/**
 * The app an adapter builds for the suite:
 * - `POST /chat` behind `keyguard({ guard, scope: x-tenant header or undefined, costHeaders: true })`:
 *   openai-node with the scoped guard's fetch and `maxRetries: 0`, `model` and `message` from the JSON
 *   body; answers `{ reply }`, or with `stream: true` writes each delta's text as it arrives (text/plain);
 * - the adapter's error handler (problem+json);
 * - `openaiProxy({ guard, keys, maxBodyBytes, costHeaders: true })` on `/v1/*`.
 */
export interface AdapterApp {
  /** Send a request to the app; `path` starts with `/`. */
  fetch(path: string, init?: RequestInit): Promise<Response>
  close?(): Promise<void>
}

const keys = { 'kg-acme-test-key': { tenant: 'acme' }, 'kg-broke-test-key': { tenant: 'broke' } }
const silent = { warn() {}, error() {} }
const json = (body: unknown, headers: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
})

/**
 * Run the adapter conformance suite: what a user of `keyguard()`, the error handler and
 * `openaiProxy()` notices, the same for every framework, against the real guard and the mock upstream.
 *
 * @param name - the adapter's name, for the `describe` title.
 * @param start - builds the app described by {@link AdapterApp} from the suite's setup.
 * @example
 * ```ts
 * describeAdapterConformance('hono', ({ guard, keys, maxBodyBytes }) => {
 *   const app = new Hono()
 *   // …mount keyguard(), /chat, openaiProxy() and the error handler…
 *   return { fetch: (path, init) => Promise.resolve(app.request(path, init)) }
 * })
 * ```
 */
export function describeAdapterConformance(
  name: string,
  start: (setup: AdapterSetup) => Promise<AdapterApp> | AdapterApp,
): void {
  describe(`adapter conformance: ${name}`, () => {
    let mock: MockOpenAI
    let app: AdapterApp
    let settled: number[]
    beforeEach(async () => {
      mock = createMockOpenAI({ validKeys: [exampleMockKey] })
      const guard = createKeyguard({
        key: exampleMockKey,
        upstream: { fetch: mock.fetch },
        logger: silent,
        limits: [
          requestLimit({ name: 'rpm', scope: 'tenant', limit: 3, windowMs: 60_000 }),
          spendLimit({
            name: 'monthly',
            scope: 'tenant',
            period: 'month',
            limitFor: (id) => (id === 'broke' ? 1 : usd(1)),
          }),
        ],
      })
      settled = []
      guard.on('settle', (event) => settled.push(event.costNanos))
      app = await start({ guard, keys, maxBodyBytes: 2048 })
    })
    afterEach(() => app.close?.())

    const proxyClient = (apiKey: string) =>
      new OpenAI({
        apiKey,
        baseURL: 'http://app.test/v1',
        maxRetries: 0,
        fetch: (url: string | URL | Request, init?: RequestInit) => {
          const target = new URL(url instanceof Request ? url.url : String(url))
          return app.fetch(target.pathname + target.search, init)
        },
      })

    it('adds RateLimit, RateLimit-Policy and the settled cost to a guarded route', async () => {
      const response = await app.fetch('/chat', json({ message: 'hi' }, { 'x-tenant': 'acme' }))
      expect(response.status).toBe(200)
      expect(await response.json()).toEqual({ reply: expect.any(String) })
      expect(response.headers.get('ratelimit-policy')).toBe('"rpm";q=3')
      expect(response.headers.get('ratelimit')).toMatch(/^"rpm";r=2;t=(59|60)$/)
      expect(Number(response.headers.get('x-keyguard-estimate'))).toBeGreaterThanOrEqual(settled[0] ?? 0)
      expect(settled[0]).toBe(8 * 150 + 6 * 600)
      expect(Number(response.headers.get('x-keyguard-cost'))).toBe(settled[0])
      expect(mock.requests[0]?.key).toBe(exampleMockKey)
    })

    it('answers a refusal with its status, problem+json and Retry-After, and sends nothing upstream', async () => {
      for (let call = 0; call < 3; call++)
        expect((await app.fetch('/chat', json({}, { 'x-tenant': 'acme' }))).status).toBe(200)
      const refused = await app.fetch('/chat', json({}, { 'x-tenant': 'acme' }))
      expect(refused.status).toBe(429)
      expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/)
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0)
      expect(await refused.json()).toMatchObject({ code: 'rate.requests', status: 429 })
      expect(mock.requests).toHaveLength(3)
      expect((await app.fetch('/chat', json({}, { 'x-tenant': 'globex' }))).status).toBe(200)
    })

    it('refuses a request that names no tenant with 400 scope.missing', async () => {
      const response = await app.fetch('/chat', json({}))
      expect(response.status).toBe(400)
      expect(await response.json()).toMatchObject({ code: 'scope.missing' })
      expect(mock.requests).toHaveLength(0)
    })

    it('answers an unknown model on a guarded route with 400 problem+json, and sends nothing upstream', async () => {
      const response = await app.fetch('/chat', json({ model: 'gpt-9-imaginary' }, { 'x-tenant': 'acme' }))
      expect(response.status).toBe(400)
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/)
      expect(await response.json()).toMatchObject({ code: 'estimate.unknown_model' })
      expect(mock.requests).toHaveLength(0)
    })

    it('streams a guarded route and settles its cost when the stream ends', async () => {
      const response = await app.fetch('/chat', json({ stream: true }, { 'x-tenant': 'acme' }))
      expect(response.status).toBe(200)
      expect(response.headers.get('ratelimit')).toMatch(/^"rpm";r=2/)
      expect(await response.text()).toBe('Hello from the mock OpenAI server.')
      await expect.poll(() => settled.length).toBe(1)
      // the mock's usage: 8 input tokens × 150 nanos + 6 output tokens × 600 nanos (gpt-4o-mini)
      expect(settled[0]).toBe(8 * 150 + 6 * 600)
    })

    it('serves an OpenAI client through the proxy with the real key, never the virtual one', async () => {
      const completion = await proxyClient('kg-acme-test-key').chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'hi' }],
      })
      expect(completion.choices[0]?.message.content).toBe('Hello from the mock OpenAI server.')
      expect(mock.requests[0]?.key).toBe(exampleMockKey)
      expect(JSON.stringify(mock.requests[0])).not.toContain('kg-acme-test-key')
    })

    it('passes a proxied stream through chunk by chunk and settles it', async () => {
      const stream = await proxyClient('kg-acme-test-key').chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'hi' }],
        stream: true,
      })
      let text = ''
      let chunks = 0
      for await (const chunk of stream) {
        chunks++
        text += chunk.choices[0]?.delta.content ?? ''
      }
      expect(text).toBe('Hello from the mock OpenAI server.')
      expect(chunks).toBeGreaterThan(2)
      await expect.poll(() => settled.length).toBe(1)
    })

    it('rejects a missing or wrong virtual key with 401 in OpenAI error format', async () => {
      await expect(proxyClient('kg-wrong').models.list()).rejects.toMatchObject({ status: 401 })
      const response = await app.fetch('/v1/chat/completions', json({ model: 'gpt-4o-mini', messages: [] }))
      expect(response.status).toBe(401)
      expect(await response.json()).toMatchObject({ error: { code: 'client.unauthorized' } })
      expect(mock.requests).toHaveLength(0)
    })

    it('rejects malformed JSON, an oversized body and an unknown model before anything goes upstream', async () => {
      const auth = { authorization: 'Bearer kg-acme-test-key', 'content-type': 'application/json' }
      const send = (body: string) =>
        app.fetch('/v1/chat/completions', { method: 'POST', headers: auth, body })
      const malformed = await send('{"model": "gpt-4o-mini",')
      expect(malformed.status).toBe(400)
      // problem details for problem+json readers, with OpenAI's `error` member for OpenAI clients
      expect(malformed.headers.get('content-type')).toBe('application/problem+json')
      expect(await malformed.json()).toMatchObject({
        status: 400,
        error: { message: 'The request body is not valid JSON.' },
      })
      const oversized = await send(
        JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x'.repeat(4096) }] }),
      )
      expect(oversized.status).toBe(413)
      expect(oversized.headers.get('content-type')).toBe('application/problem+json')
      const unknown = await send(JSON.stringify({ model: 'gpt-9-imaginary', messages: [] }))
      expect(unknown.status).toBe(400)
      expect(unknown.headers.get('content-type')).toBe('application/problem+json')
      expect(await unknown.json()).toMatchObject({
        code: 'estimate.unknown_model',
        error: { code: 'estimate.unknown_model' },
      })
      expect(mock.requests).toHaveLength(0)
    })

    it('answers a budget the request can never fit with 402, x-should-retry: false and no Retry-After', async () => {
      const response = await app.fetch(
        '/v1/chat/completions',
        json(
          { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] },
          { authorization: 'Bearer kg-broke-test-key' },
        ),
      )
      expect(response.status).toBe(402)
      expect(response.headers.get('x-should-retry')).toBe('false')
      expect(response.headers.get('retry-after')).toBeNull()
      expect(await response.json()).toMatchObject({ error: { code: 'budget.hard_limit' } })
      expect(mock.requests).toHaveLength(0)
    })
  })

  describe(`adapter conformance: ${name}: body readers and unreachable upstreams`, () => {
    let mock: MockOpenAI
    const opened: AdapterApp[] = []
    afterEach(async () => {
      for (const app of opened.splice(0)) await app.close?.()
    })
    // A guard whose upstream is the mock, or nothing at all: fetch fails as undici's does when no one listens.
    const open = async (
      bodyReader?: AdapterSetup['bodyReader'],
      upstream: 'mock' | 'unreachable' = 'mock',
      cookies?: AdapterSetup['cookies'],
    ) => {
      mock = createMockOpenAI({ validKeys: [exampleMockKey] })
      const guard = createKeyguard({
        key: exampleMockKey,
        upstream: {
          fetch:
            upstream === 'mock'
              ? mock.fetch
              : async () => {
                  throw new TypeError('fetch failed', {
                    cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), {
                      code: 'ECONNREFUSED',
                    }),
                  })
                },
        },
        logger: silent,
        limits: [requestLimit({ name: 'rpm', scope: 'tenant', limit: 100, windowMs: 60_000 })],
      })
      const app = await start({ guard, keys, maxBodyBytes: 2048, bodyReader, cookies })
      opened.push(app)
      return app
    }
    const completion = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'héllo 👋' }], seed: 7 }
    const auth = { authorization: 'Bearer kg-acme-test-key' }

    it.each(['json', 'bytes', 'text'] as const)(
      'forwards the body unchanged when a %s body reader ran before the proxy',
      async (bodyReader) => {
        const app = await open(bodyReader)
        const response = await app.fetch('/v1/chat/completions', json(completion, auth))
        expect(response.status).toBe(200)
        expect(await response.json()).toMatchObject({ object: 'chat.completion' })
        expect(mock.requests).toHaveLength(1)
        expect(mock.requests[0]?.body).toEqual(completion)
      },
    )

    // The adapter either refuses the form it cannot rebuild (Express) or forwards its bytes (Hono keeps
    // them); it never turns a parsed form into JSON that the upstream would accept and charge.
    it('never forwards a form that a form reader parsed as anything but the bytes sent', async () => {
      const app = await open('form')
      const form = 'model=gpt-4o-mini&messages[0][role]=user&messages[0][content]=hi'
      const response = await app.fetch('/v1/chat/completions', {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' },
        body: form,
      })
      expect([200, 400]).toContain(response.status)
      if (response.status === 400)
        expect(await response.json()).toMatchObject({ error: { code: 'request.invalid' } })
      expect(mock.requests.filter((request) => request.body !== form)).toEqual([])
    })

    it('keeps every Set-Cookie the app set before the proxy answered, each its own header', async () => {
      const cookies = ['session=abc; Path=/; HttpOnly', 'theme=dark; Expires=Wed, 21 Oct 2037 07:28:00 GMT']
      const app = await open('json', 'mock', cookies)
      const response = await app.fetch('/v1/chat/completions', json(completion, auth))
      expect(response.status).toBe(200)
      expect(response.headers.getSetCookie()).toEqual(cookies)
    })

    it('still forwards a JSON body that a form reader left unread', async () => {
      const app = await open('form')
      const response = await app.fetch('/v1/chat/completions', json(completion, auth))
      expect(response.status).toBe(200)
      expect(mock.requests[0]?.body).toEqual(completion)
    })

    it.each([false, true])(
      'answers a guarded route (stream: %s) with 502 problem+json upstream.connection when the upstream is unreachable',
      async (stream) => {
        const app = await open(undefined, 'unreachable')
        const response = await app.fetch('/chat', json({ stream }, { 'x-tenant': 'acme' }))
        expect(response.status).toBe(502)
        expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/)
        const text = await response.text()
        expect(JSON.parse(text)).toMatchObject({ code: 'upstream.connection', status: 502 })
        expect(text).not.toContain(exampleMockKey)
        expect(text).not.toMatch(/ECONNREFUSED|\n\s+at |node_modules|\.ts:\d/)
      },
    )

    it('answers the proxy with 502 upstream.connection in OpenAI format when the upstream is unreachable', async () => {
      const app = await open(undefined, 'unreachable')
      const response = await app.fetch('/v1/chat/completions', json(completion, auth))
      expect(response.status).toBe(502)
      const text = await response.text()
      expect(JSON.parse(text)).toMatchObject({ error: { code: 'upstream.connection' } })
      expect(text).not.toContain(exampleMockKey)
      expect(text).not.toMatch(/ECONNREFUSED|\n\s+at |node_modules/)
    })
  })

  describe(`adapter conformance: ${name}: what the proxy serves, and to whom`, () => {
    let mock: MockOpenAI
    let app: AdapterApp
    beforeEach(async () => {
      mock = createMockOpenAI({ validKeys: [exampleMockKey] })
      const guard = createKeyguard({
        key: exampleMockKey,
        upstream: { fetch: mock.fetch },
        logger: silent,
        limits: [spendLimit({ name: 'monthly', scope: 'tenant', period: 'month', limitFor: () => 0 })],
        backgroundResponses: 'refuse',
      })
      const free = createKeyguard({ key: exampleMockKey, upstream: { fetch: mock.fetch }, logger: silent })
      app = await start({ guard, keys, maxBodyBytes: 2048 })
      // a second app for the stored-object cases: no limit in the way of creating one
      freeApp = await start({
        guard: free,
        keys: { ...keys, 'kg-globex-test-key': { tenant: 'globex' } },
        maxBodyBytes: 2048,
      })
    })
    let freeApp: AdapterApp
    afterEach(async () => {
      await app.close?.()
      await freeApp.close?.()
    })
    const send = (target: AdapterApp, key: string, method: string, path: string, body?: unknown) =>
      target.fetch(path, {
        method,
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      })

    it('refuses endpoints keyguard does not price with 404 proxy.endpoint_not_allowed, and sends nothing', async () => {
      for (const [method, path] of [
        ['POST', '/v1/completions'],
        ['POST', '/v1/images/generations'],
        ['POST', '/v1/audio/speech'],
        ['POST', '/v1/responses/compact'],
        ['GET', '/v1/files'],
        ['GET', '/v1/chat/completions'],
        ['POST', '/v1/images%2Fgenerations'],
        ['POST', '/v1/chat/completions/../../images/generations'],
        // what a careless or hostile caller tries: the allowlist reads one canonical path, escapes refused
        ['POST', '/v1//completions'],
        ['POST', '/v1/completions/'],
        ['POST', '/v1/completions?model=gpt-4o-mini'],
        ['POST', '/v1/Completions'],
        ['POST', '/v1/chat/%2e%2e/completions'],
        ['POST', '/v1/chat/completions%2F..%2F..%2Fimages%2Fgenerations'],
      ] as const) {
        const response = await send(
          app,
          'kg-broke-test-key',
          method,
          path,
          method === 'GET' ? undefined : { model: 'gpt-4o-mini', prompt: 'hi' },
        )
        expect(response.status, `${method} ${path}`).toBe(404)
        expect(await response.json()).toMatchObject({ error: { code: 'proxy.endpoint_not_allowed' } })
      }
      expect(mock.requests).toHaveLength(0)
      expect((await send(app, 'kg-broke-test-key', 'GET', '/v1/models')).status).toBe(200)
    })

    it('prices a path variant of a priced endpoint and sends only the canonical path upstream', async () => {
      const response = await send(freeApp, 'kg-acme-test-key', 'POST', '/v1//chat/completions/', {
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'hi' }],
      })
      expect(response.status).toBe(200)
      expect(mock.requests.map((request) => request.path)).toEqual(['/v1/chat/completions'])
    })

    it("answers another tenant's stored response as an unknown id, and sends nothing", async () => {
      const created = await send(freeApp, 'kg-acme-test-key', 'POST', '/v1/responses', {
        model: 'gpt-4o-mini',
        input: 'hi',
      })
      const { id } = (await created.json()) as { id: string }
      const before = mock.requests.length
      const foreign = await send(freeApp, 'kg-globex-test-key', 'GET', `/v1/responses/${id}`)
      expect(foreign.status).toBe(404)
      expect(await foreign.json()).toEqual({
        error: {
          message: `No response found with id '${id}'.`,
          type: 'invalid_request_error',
          param: null,
          code: null,
        },
      })
      expect(mock.requests).toHaveLength(before)
      await send(freeApp, 'kg-acme-test-key', 'GET', `/v1/responses/${id}`)
      expect(mock.requests.at(-1)?.path).toBe(`/v1/responses/${id}`)
    })

    it('refuses a background response with 400 naming the option, and sends nothing', async () => {
      const response = await send(freeApp, 'kg-acme-test-key', 'POST', '/v1/responses', {
        model: 'gpt-4o-mini',
        input: 'hi',
        background: true,
      })
      expect(response.status).toBe(400)
      const body = (await response.json()) as { error: { code: string; message: string } }
      expect(body.error.code).toBe('request.invalid')
      expect(body.error.message).toContain('backgroundResponses')
      expect(mock.requests).toHaveLength(0)
    })
  })
}
