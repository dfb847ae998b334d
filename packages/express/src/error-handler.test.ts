import type { AddressInfo } from 'node:net'
import { KeyguardError } from '@keyguard/core'
import express5 from 'express'
import express4 from 'express4'
import { afterEach, describe, expect, it } from 'vitest'
import { keyguardErrorHandler } from './error-handler'

type ExpressFactory = typeof express5
const closers: (() => void)[] = []
afterEach(() => {
  for (const close of closers.splice(0)) close()
})

async function serve(express: ExpressFactory, error: unknown, logs: string[] = [], format?: 'openai') {
  const app = express()
  app.get('/chat', () => {
    throw error
  })
  app.use(
    keyguardErrorHandler({
      logger: { warn: (message) => logs.push(message), error: () => {} },
      ...(format ? { format } : {}),
    }),
  )
  app.use(((_error, _req, res, _next) => res.status(500).send('fallback')) as express5.ErrorRequestHandler)
  const server = app.listen(0)
  closers.push(() => server.close())
  await new Promise((resolve) => server.once('listening', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

describe.each([
  ['express 5', express5],
  ['express 4', express4 as unknown as ExpressFactory],
])('keyguardErrorHandler on %s', (_name, express) => {
  it('answers a KeyguardError with problem+json, its status and Retry-After', async () => {
    const logs: string[] = []
    const error = new KeyguardError({
      code: 'rate.requests',
      message: 'tenant t1 over 60 rpm',
      retryAfterMs: 2500,
    })
    const response = await fetch(`${await serve(express, error, logs)}/chat`)
    expect(response.status).toBe(429)
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/)
    expect(response.headers.get('retry-after')).toBe('3')
    expect(await response.json()).toMatchObject({ code: 'rate.requests', status: 429, retryAfter: 3 })
    expect(logs).toEqual(['keyguard: rate.requests: tenant t1 over 60 rpm'])
  })

  it('keeps the operator hint away from the client', async () => {
    const error = new KeyguardError({
      code: 'quota.insufficient',
      message: 'add billing to project proj_123',
    })
    const response = await fetch(`${await serve(express, error)}/chat`)
    expect(response.status).toBe(503)
    expect(await response.text()).not.toContain('proj_123')
  })

  it('answers in OpenAI error format with x-should-retry when asked', async () => {
    const error = new KeyguardError({ code: 'credits.exhausted', message: 'tenant t1 has no credits' })
    const response = await fetch(`${await serve(express, error, [], 'openai')}/chat`)
    expect(response.status).toBe(402)
    expect(response.headers.get('x-should-retry')).toBe('false')
    expect(await response.json()).toMatchObject({
      error: { code: 'credits.exhausted', type: 'keyguard_credits_exhausted' },
    })
  })

  it("answers express.json()'s malformed and oversized bodies with problem+json", async () => {
    const app = express()
    app.use(express.json({ limit: 100 }))
    app.post('/chat', (_req, res) => res.send('ok'))
    app.use(keyguardErrorHandler())
    const server = app.listen(0)
    closers.push(() => server.close())
    await new Promise((resolve) => server.once('listening', resolve))
    const post = (body: string) =>
      fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/chat`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      })
    const malformed = await post('{"message":')
    expect(malformed.status).toBe(400)
    expect(await malformed.json()).toMatchObject({
      code: 'request.invalid',
      detail: 'The request body is not valid JSON.',
    })
    const large = await post(JSON.stringify({ message: 'x'.repeat(500) }))
    expect(large.status).toBe(413)
    expect(await large.json()).toMatchObject({ code: 'request.body_too_large' })
  })

  it('passes other errors to the next handler', async () => {
    const response = await fetch(`${await serve(express, new Error('boom'))}/chat`)
    expect(response.status).toBe(500)
    expect(await response.text()).toBe('fallback')
  })
})
