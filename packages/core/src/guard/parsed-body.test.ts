import { describe, expect, it } from 'vitest'
import { withParsedBody } from './parsed-body'
import { readRequest } from './read-request'

const url = 'https://api.openai.com/v1'
const text = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] })

describe('withParsedBody', () => {
  it('gives readRequest the object the body was parsed into, without parsing it again', async () => {
    const json = JSON.parse(text) as Record<string, unknown>
    const init = withParsedBody({ method: 'POST', body: text }, json)
    const incoming = await readRequest('/chat/completions', init, url)
    expect(incoming.json).toBe(json)
    expect(incoming.text).toBe(text)
  })

  it('is ignored once the body is another text', async () => {
    const init: RequestInit = withParsedBody({ method: 'POST', body: text }, { model: 'stale' })
    init.body = JSON.stringify({ model: 'gpt-4o', messages: [] })
    const incoming = await readRequest('/chat/completions', init, url)
    expect(incoming.json).toEqual({ model: 'gpt-4o', messages: [] })
  })

  it('still refuses a body over the size cap', async () => {
    const init = withParsedBody({ method: 'POST', body: text }, JSON.parse(text))
    const incoming = await readRequest('/chat/completions', init, url, 16)
    expect(incoming.problem?.code).toBe('request.body_too_large')
    expect(incoming.json).toBeUndefined()
  })
})
