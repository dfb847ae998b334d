import { createMockOpenAI, fakeClock } from '@keyguard/testing'
import OpenAI from 'openai'
import { describe, expect, it } from 'vitest'
import { memoryStore } from '../limits/memory-store'
import { spendLimit } from '../limits/spend-limit'
import { createKeyguard } from './create-keyguard'
import type { KeyguardEvent } from './keyguard-events'
import { readRequest } from './read-request'

const canary = `sk-proj-${'C4n4ryK3y'.repeat(5)}T3stW8q8A`
const url = 'https://api.openai.com/v1'
const chatText = JSON.stringify({
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: 'Say hello' }],
  max_tokens: 100,
})
const bytesOf = (text: string) => new TextEncoder().encode(text)
const streamOf = (text: string) =>
  new ReadableStream<Uint8Array>({
    start(controller) {
      const bytes = bytesOf(text)
      controller.enqueue(bytes.subarray(0, 10))
      controller.enqueue(bytes.subarray(10))
      controller.close()
    },
  })

/** A guard with a spend limit: `limit` 0 refuses every priced call, so a 200 means it went unpriced. */
function setup(limit = 0) {
  const clock = fakeClock('2026-11-28T12:00:00Z')
  const mock = createMockOpenAI()
  const events: KeyguardEvent[] = []
  const guard = createKeyguard({
    key: canary,
    upstream: { fetch: mock.fetch },
    now: clock.now,
    store: memoryStore({ now: clock.now }),
    limits: [spendLimit({ scope: 'global', limit, period: 'day' })],
    logger: { warn: () => {}, error: () => {} },
  })
  guard.on('settle', (event) => events.push(event))
  guard.on('denied', (event) => events.push(event))
  const post = (body: BodyInit | null | undefined, path = '/chat/completions') =>
    guard.fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body }),
      // A stream body needs half duplex on Node's fetch; keyguard reads it, so nothing streams.
      duplex: 'half',
    } as RequestInit)
  return { mock, guard, events, post }
}

const bodies: [string, () => BodyInit][] = [
  ['a string', () => chatText],
  ['an ArrayBuffer', () => bytesOf(chatText).buffer as ArrayBuffer],
  ['a Uint8Array', () => bytesOf(chatText)],
  ['a DataView', () => new DataView(bytesOf(chatText).buffer)],
  [
    'a Uint16Array view of part of a buffer',
    () => {
      const padded = new Uint8Array(4 + bytesOf(chatText).byteLength + (bytesOf(chatText).byteLength % 2))
      padded.fill(32)
      padded.set(bytesOf(chatText), 4)
      return new Uint16Array(padded.buffer, 4, (padded.byteLength - 4) / 2)
    },
  ],
  ['a Blob', () => new Blob([chatText], { type: 'application/json' })],
  ['a File', () => new File([chatText], 'body.json', { type: 'application/json' })],
  ['a ReadableStream', () => streamOf(chatText)],
]

describe('readRequest', () => {
  it.each(bodies)('reads %s body whole and parses it', async (_, body) => {
    const incoming = await readRequest(
      `${url}/chat/completions`,
      { method: 'POST', body: body(), duplex: 'half' } as RequestInit,
      url,
    )
    expect(incoming.problem).toBeUndefined()
    expect(incoming.json?.model).toBe('gpt-4o-mini')
  })

  it.each(bodies)('refuses %s body over the size cap, reading no further than the cap', async (_, body) => {
    const incoming = await readRequest(
      `${url}/chat/completions`,
      { method: 'POST', body: body(), duplex: 'half' } as RequestInit,
      url,
      64,
    )
    expect(incoming.problem?.code).toBe('request.body_too_large')
    expect(incoming.json).toBeUndefined()
  })

  it('passes an unpriced call’s body as it came', async () => {
    const form = new FormData()
    form.set('purpose', 'batch')
    const incoming = await readRequest(`${url}/files`, { method: 'POST', body: form }, url)
    expect(incoming.problem).toBeUndefined()
    expect(incoming.body).toBe(form)
  })
})

describe('createKeyguard bodies', () => {
  it.each([...bodies, ['a Request with its own body', () => chatText]] as [string, () => BodyInit][])(
    'prices %s: a zero hard limit refuses it and nothing reaches upstream',
    async (name, body) => {
      const { mock, guard, post } = setup(0)
      const response = name.startsWith('a Request')
        ? await guard.fetch(
            new Request(`${url}/chat/completions`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: body(),
            }),
          )
        : await post(body())
      expect(response.ok).toBe(false)
      expect((await response.json()).error.code).toBe('budget.hard_limit')
      expect(mock.requests).toHaveLength(0)
    },
  )

  it.each(bodies)('sends %s body upstream as the JSON it held', async (_, body) => {
    const { mock, guard, events } = setup(1_000_000_000)
    // No content-type from the caller: the JSON text sent is labelled as such.
    const response = await guard.fetch(`${url}/chat/completions`, {
      method: 'POST',
      body: body(),
      duplex: 'half',
    } as RequestInit)
    expect(response.status).toBe(200)
    await response.json()
    expect(mock.requests).toHaveLength(1)
    expect(mock.requests[0]?.headers['content-type']).toBe('application/json')
    expect(mock.requests[0]?.body).toMatchObject({ model: 'gpt-4o-mini', max_tokens: 100 })
    expect(events.at(-1)).toMatchObject({ type: 'settle', ending: 'complete', estimated: false })
  })

  it.each([
    ['invalid JSON', '{"model": "gpt-4o-mini",'],
    ['a JSON array', '[{"model": "gpt-4o-mini"}]'],
    ['null', 'null'],
    ['a number', '42'],
    ['an empty body', ''],
    ['no body', undefined],
  ] as [string, string | undefined][])(
    'refuses %s on a priced endpoint with 400, nothing sent, nothing held',
    async (_, body) => {
      for (const path of ['/chat/completions', '/responses', '/embeddings']) {
        const { mock, guard, post, events } = setup(1_000_000_000)
        const response = await post(body, path)
        expect(response.status).toBe(400)
        const text = await response.text()
        expect(text).not.toContain(canary)
        const error = JSON.parse(text).error
        expect(error).toMatchObject({ code: 'request.invalid', type: 'invalid_request_error' })
        expect(mock.requests).toHaveLength(0)
        expect(events.map((event) => event.type)).toEqual(['denied'])
        const [state] = await guard.usage()
        expect(state?.used ?? 0).toBe(0)
        expect(state?.held ?? 0).toBe(0)
      }
    },
  )

  it('refuses a form body on a priced endpoint', async () => {
    const { mock, post } = setup(1_000_000_000)
    const form = new FormData()
    form.set('model', 'gpt-4o-mini')
    const response = await post(form)
    expect(response.status).toBe(400)
    expect(mock.requests).toHaveLength(0)
    const search = await post(new URLSearchParams({ model: 'gpt-4o-mini' }))
    expect(search.status).toBe(400)
  })

  it('refuses an unparseable body through openai-node as a 400 BadRequestError', async () => {
    const { mock, guard } = setup(1_000_000_000)
    const openai = new OpenAI({ apiKey: 'unused', fetch: guard.fetch, maxRetries: 0 })
    const error = await openai
      .post('/chat/completions', { body: [{ model: 'gpt-4o-mini' }] })
      .catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(OpenAI.BadRequestError)
    expect(mock.requests).toHaveLength(0)
  })
})
