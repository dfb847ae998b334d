import type { AddressInfo } from 'node:net'
import express from 'express'
import { afterEach, describe, expect, it } from 'vitest'
import { listen } from './__fixtures__/listen'
import { toWebRequest } from './to-web-request'

const closers: (() => void)[] = []
afterEach(() => {
  for (const close of closers.splice(0)) close()
})

async function echoThrough(parseJson: boolean) {
  const app = express()
  if (parseJson) app.use(express.json())
  app.post('/v1/chat/completions', async (req, res) => {
    const request = toWebRequest(req)
    res.json({
      url: request.url,
      method: request.method,
      auth: request.headers.get('x-tenant'),
      body: await request.json(),
    })
  })
  const server = app.listen(0)
  closers.push(() => server.close())
  await new Promise((resolve) => server.once('listening', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

describe('toWebRequest', () => {
  it.each([true, false])('carries url, method, headers and body (json parser ran: %s)', async (parseJson) => {
    const base = await echoThrough(parseJson)
    const body = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'héllo' }] }
    const response = await fetch(`${base}/v1/chat/completions?x=1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-tenant': 't1' },
      body: JSON.stringify(body),
    })
    expect(await response.json()).toEqual({
      url: `${base}/v1/chat/completions?x=1`,
      method: 'POST',
      auth: 't1',
      body,
    })
  })
})

describe('toWebRequest after a body parser', () => {
  // Echo what the Web request carries as bytes, or the error it raised.
  async function through(parser: express.RequestHandler, init: RequestInit) {
    const app = express()
    app.use(parser)
    app.post('/v1/files', async (req, res) => {
      try {
        res.type('application/octet-stream').send(Buffer.from(await toWebRequest(req).arrayBuffer()))
      } catch (error) {
        res.status(418).json(error)
      }
    })
    const server = await listen(app)
    closers.push(() => void server.close())
    return fetch(`${server.origin}/v1/files`, { method: 'POST', ...init })
  }

  it("forwards express.raw()'s Buffer as the bytes sent, not as JSON", async () => {
    const bytes = new Uint8Array([0, 159, 146, 150, 255, 10])
    const response = await through(express.raw({ type: () => true }), {
      headers: { 'content-type': 'audio/wav' },
      body: bytes,
    })
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(bytes)
  })

  it("forwards express.text()'s string as itself", async () => {
    const body = '{"model":"gpt-4o-mini",  "input":"héllo"}'
    const response = await through(express.text({ type: () => true }), {
      headers: { 'content-type': 'application/json' },
      body,
    })
    expect(await response.text()).toBe(body)
  })

  it('refuses a form express.urlencoded() parsed into an object, and a stream read into nothing', async () => {
    const form = await through(express.urlencoded({ extended: false }), {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'model=gpt-4o-mini',
    })
    expect(form.status).toBe(418)
    expect(await form.json()).toMatchObject({ code: 'request.invalid', clientStatus: 400 })
    const drained: express.RequestHandler = (req, _res, next) => {
      req.resume()
      req.once('end', () => next())
    }
    const empty = await through(drained, { headers: { 'content-type': 'application/json' }, body: '{}' })
    expect(await empty.json()).toMatchObject({ code: 'request.invalid' })
  })
})
