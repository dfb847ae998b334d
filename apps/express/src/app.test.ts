import type { AddressInfo } from 'node:net'
import { exampleUpstream } from '@keyguard/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from './app'

// The example as its README drives it: a real Express server on an ephemeral port, the mock upstream.
describe('createApp', () => {
  const upstream = exampleUpstream(undefined, { usage: { completionTokens: 150 } })
  const { app, guard } = createApp({ ...upstream.guardOptions, log: () => {} })
  const server = app.listen(0, '127.0.0.1')
  let base = ''
  beforeAll(async () => {
    if (!server.listening) await new Promise((resolve) => server.once('listening', resolve))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(() => {
    server.closeAllConnections()
    server.close()
  })

  const chat = (headers: Record<string, string>) =>
    fetch(`${base}/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ message: 'Hello!' }),
    })
  const spent = async (tenant: string) =>
    (await guard.usage({ tenant })).find((state) => state.kind === 'spend')?.used ?? 0

  it('refuses a caller without a valid token with 401, before anything goes upstream', async () => {
    const sent = upstream.mock?.requests.length
    for (const headers of [{}, { 'x-tenant': 'acme' }, { authorization: 'Bearer not-a-demo-token' }]) {
      const response = await chat(headers)
      expect(response.status).toBe(401)
      expect(response.headers.get('www-authenticate')).toBe('Bearer')
      expect(response.headers.get('content-type')).toContain('application/problem+json')
    }
    expect(upstream.mock?.requests.length).toBe(sent)
  })

  it('bills the tenant the token signs in, whatever x-tenant the caller sends', async () => {
    const response = await chat({ authorization: 'Bearer demo-globex', 'x-tenant': 'acme', 'x-user': 'ana' })
    expect(response.status).toBe(200)
    await response.arrayBuffer()
    expect(await spent('globex')).toBeGreaterThan(0)
    expect(await spent('acme')).toBe(0)
  })

  it('answers the README steps: cost and RateLimit headers, then a 402 once the budget is spent', async () => {
    const first = await chat({ authorization: 'Bearer demo-acme' })
    expect(first.status).toBe(200)
    expect(first.headers.get('ratelimit-policy')).toContain('"rpm";q=20')
    expect(first.headers.get('ratelimit')).toContain('"rpm";r=19;t=60')
    expect(Number(first.headers.get('x-keyguard-cost'))).toBeGreaterThan(0)
    expect(await first.json()).toMatchObject({ reply: 'Hello from the mock OpenAI server.' })
    let refused: Response | undefined
    for (let call = 0; call < 10 && !refused; call++) {
      const response = await chat({ authorization: 'Bearer demo-acme' })
      if (response.status === 200) await response.arrayBuffer()
      else refused = response
    }
    expect(refused?.status).toBe(402)
    expect(await refused?.json()).toMatchObject({ code: 'budget.hard_limit' })
    expect((await chat({ authorization: 'Bearer demo-globex' })).status).toBe(200)
  })
})
