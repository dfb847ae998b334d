import type { AddressInfo } from 'node:net'
import express from 'express'
import { afterEach, describe, expect, it } from 'vitest'
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
