import express from 'express'
import { describe, expect, it } from 'vitest'
import { listen } from './__fixtures__/listen'
import { sendWebResponse } from './send-web-response'

describe('sendWebResponse', () => {
  it("sends each Set-Cookie as its own header, after the app's own", async () => {
    const app = express()
    app.get('/', (_req, res) => {
      res.cookie('session', 's1')
      const headers = new Headers({ 'content-type': 'text/plain' })
      headers.append('set-cookie', 'a=1; Path=/')
      headers.append('set-cookie', 'b=2; Expires=Wed, 21 Oct 2037 07:28:00 GMT')
      sendWebResponse(res, new Response('ok', { status: 201, headers }))
    })
    const server = await listen(app)
    const response = await fetch(server.origin)
    expect(response.status).toBe(201)
    expect(await response.text()).toBe('ok')
    expect(response.headers.getSetCookie()).toEqual([
      'session=s1; Path=/',
      'a=1; Path=/',
      'b=2; Expires=Wed, 21 Oct 2037 07:28:00 GMT',
    ])
    await server.close()
  })
})
