import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { createKeyguard } from '@keyguard/core'
import { createMockOpenAI, exampleMockKey } from '@keyguard/testing'
import { Hono } from 'hono'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openaiProxy } from './openai-proxy'

// Under @hono/node-server, `Response` is the server's own lighter class, whose headers are copied from
// how it was built: a proxy that edited an upstream Response's headers in place would leak them here
// while passing every in-process test (`app.request`). This test goes through a real server.

const privateHeader = /^(openai-organization|openai-project|x-ratelimit-|set-cookie)/i

describe('openaiProxy served by @hono/node-server', () => {
  const mock = createMockOpenAI({ validKeys: [exampleMockKey] })
  // the upstream also sends OpenAI's account headers and a cookie, none of which a caller may see
  const upstreamFetch: typeof fetch = async (input, init) => {
    const answer = String(init?.body ?? '').includes('"user":"rate-limited"')
      ? Response.json(
          { error: { message: 'Rate limit reached', type: 'requests', code: 'rate_limit_exceeded' } },
          { status: 429, headers: { 'x-ratelimit-remaining-requests': '0', 'retry-after': '1' } },
        )
      : await mock.fetch(input, init)
    const headers = new Headers(answer.headers)
    headers.set('openai-organization', 'org-private')
    headers.set('openai-project', 'proj_private')
    headers.append('set-cookie', '__cf_bm=private; Path=/')
    return new Response(answer.body, { status: answer.status, headers })
  }
  const guard = createKeyguard({
    key: exampleMockKey,
    upstream: { fetch: upstreamFetch },
    logger: { warn() {}, error() {} },
  })
  const app = new Hono()
  app.all('/v1/*', openaiProxy({ guard, keys: { 'kg-acme-test-key': { tenant: 'acme' } } }))
  let server: ReturnType<typeof serve>
  let base = ''

  beforeAll(async () => {
    server = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const started = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(started))
    })
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

  const call = (body: Record<string, unknown>) =>
    fetch(`${base}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: 'Bearer kg-acme-test-key', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], ...body }),
    })
  const leaked = (response: Response) =>
    [...response.headers.keys()].filter((name) => privateHeader.test(name))

  it('answers JSON without OpenAI account headers or cookies', async () => {
    const response = await call({})
    expect(response.status).toBe(200)
    expect(leaked(response)).toEqual([])
    const text = await response.text()
    expect(JSON.parse(text)).toMatchObject({ object: 'chat.completion' })
    // The real key rides only on the upstream request, never back to the caller.
    expect(`${[...response.headers].join('\n')}\n${text}`).not.toContain(exampleMockKey)
  }, 30_000)

  it('answers a stream without OpenAI account headers or cookies', async () => {
    const response = await call({ stream: true })
    expect(response.status).toBe(200)
    expect(leaked(response)).toEqual([])
    const text = await response.text()
    expect(text).toContain('data: [DONE]')
    expect(`${[...response.headers].join('\n')}\n${text}`).not.toContain(exampleMockKey)
  }, 30_000)

  it('answers an upstream refusal without them either', async () => {
    const response = await call({ user: 'rate-limited' })
    expect(response.status).toBe(429)
    expect(leaked(response)).toEqual([])
    await response.arrayBuffer()
  }, 30_000)
})
