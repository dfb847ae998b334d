import OpenAI from 'openai'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createMockOpenAI } from './create-mock-openai'
import { mockErrors } from './mock-errors'

const key = 'sk-proj-abcdefghijklmnopqrstuvwxyz0123456789Wq8A'
const clientFor = (mock: ReturnType<typeof createMockOpenAI>, apiKey = key) =>
  new OpenAI({ apiKey, fetch: mock.fetch, maxRetries: 0 })

describe('createMockOpenAI', () => {
  it('answers a chat completion through openai-node with deterministic usage', async () => {
    const mock = createMockOpenAI({ reply: 'one two three' })
    const completion = await clientFor(mock).chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Say hello, please!' }],
    })
    expect(completion.choices[0]?.message.content).toBe('one two three')
    expect(completion.usage).toMatchObject({ prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 })
    expect(mock.requests[0]?.headers.authorization).toBe(`Bearer ${key}`)
    expect(mock.requests[0]?.key).toBe(key)
  })

  it('streams chat chunks and ends with a usage chunk when include_usage is set', async () => {
    const mock = createMockOpenAI({ reply: 'a b c d' })
    const stream = await clientFor(mock).chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      stream_options: { include_usage: true },
    })
    let text = ''
    let usage: unknown
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? ''
      if (chunk.usage) usage = chunk.usage
    }
    expect(text).toBe('a b c d')
    expect(usage).toMatchObject({ completion_tokens: 4, prompt_tokens: 8 })
  })

  it('streams without a usage chunk when include_usage is not set', async () => {
    const mock = createMockOpenAI()
    const response = await mock.fetch('https://api.openai.com/v1/chat/completions', {
      method: 'POST',
      headers: { authorization: `Bearer ${key}` },
      body: JSON.stringify({ model: 'gpt-4o', messages: [], stream: true }),
    })
    const text = await response.text()
    expect(response.headers.get('content-type')).toContain('text/event-stream')
    expect(text).not.toContain('"usage"')
    expect(text.trim().endsWith('data: [DONE]')).toBe(true)
  })

  it('answers responses, JSON and streamed, with usage on response.completed', async () => {
    const mock = createMockOpenAI({ reply: 'x y', usage: { cachedTokens: 2 } })
    const client = clientFor(mock)
    const response = await client.responses.create({ model: 'gpt-5-mini', input: 'hello there' })
    expect(response.output_text).toBe('x y')
    expect(response.usage).toMatchObject({ output_tokens: 2, input_tokens_details: { cached_tokens: 2 } })
    const stream = await client.responses.create({ model: 'gpt-5-mini', input: 'hello there', stream: true })
    const types: string[] = []
    let completedUsage: unknown
    for await (const event of stream) {
      types.push(event.type)
      if (event.type === 'response.completed') completedUsage = event.response.usage
    }
    expect(types.filter((type) => type === 'response.output_text.delta')).toHaveLength(2)
    expect(types.at(-1)).toBe('response.completed')
    expect(completedUsage).toEqual(response.usage)
  })

  it('answers embeddings in float and base64 form', async () => {
    const mock = createMockOpenAI()
    const result = await clientFor(mock).embeddings.create({
      model: 'text-embedding-3-small',
      input: ['alpha', 'beta'],
      dimensions: 4,
    })
    expect(result.data).toHaveLength(2)
    expect(result.data[0]?.embedding).toHaveLength(4)
    // one token per four characters, rounded up: 'alpha' 2, 'beta' 1
    expect(result.usage.prompt_tokens).toBe(3)
    expect(mock.requests[0]?.body).toMatchObject({ encoding_format: 'base64' })
    const plain = await mock.fetch('http://mock/v1/embeddings', {
      method: 'POST',
      headers: { authorization: `Bearer ${key}` },
      body: JSON.stringify({ model: 'text-embedding-3-small', input: 'alpha', dimensions: 4 }),
    })
    const floats = ((await plain.json()) as { data: { embedding: number[] }[] }).data[0]?.embedding
    expect(floats?.map((value) => Math.fround(value))).toEqual(result.data[0]?.embedding)
  })

  it('lists models', async () => {
    const mock = createMockOpenAI({ models: ['gpt-4o', 'gpt-4o-mini'] })
    const page = await clientFor(mock).models.list()
    expect(page.data.map((model) => model.id)).toEqual(['gpt-4o', 'gpt-4o-mini'])
  })

  it('rejects keys it was not told to accept, echoing the key masked as OpenAI does', async () => {
    const mock = createMockOpenAI({ validKeys: ['sk-proj-good'] })
    const error = await clientFor(mock)
      .models.list()
      .catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError)
    const message = (error as Error).message
    expect(message).toContain('Incorrect API key provided: sk-proj-****')
    expect(message).toContain('Wq8A.')
    expect(message).not.toContain(key)
  })

  it('sends a scripted rate limit once, with retry headers, then answers normally', async () => {
    const mock = createMockOpenAI()
    mock.enqueue(mockErrors.rateLimited({ retryAfterMs: 1500 }))
    const client = clientFor(mock)
    const error = await client.models.list().catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(OpenAI.RateLimitError)
    expect((error as InstanceType<typeof OpenAI.RateLimitError>).headers.get('retry-after-ms')).toBe('1500')
    await expect(client.models.list()).resolves.toBeDefined()
  })

  it('answers every call with a key that has a standing response, such as no quota', async () => {
    const mock = createMockOpenAI({ keyResponses: { [key]: mockErrors.insufficientQuota() } })
    const error = await new OpenAI({ apiKey: key, fetch: mock.fetch, maxRetries: 0 }).chat.completions
      .create({ model: 'gpt-4o', messages: [] })
      .catch((caught: unknown) => caught)
    expect(error).toMatchObject({ status: 429, code: 'insufficient_quota', type: 'insufficient_quota' })
  })

  it("refuses a restricted key's missing scope on one path, as OpenAI words it", async () => {
    const mock = createMockOpenAI()
    mock.enqueue({
      ...mockErrors.missingScopes(['api.model.images.request']),
      path: '/v1/images/generations',
    })
    const client = clientFor(mock)
    const error = await client.images
      .generate({ model: 'gpt-image-1', prompt: 'a cat' })
      .catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError)
    expect(error).toMatchObject({ status: 401, code: null })
    expect((error as Error).message).toContain('Missing scopes: api.model.images.request')
    await expect(client.models.list()).resolves.toBeDefined()
  })

  it('matches a scripted answer to its path', async () => {
    const mock = createMockOpenAI()
    mock.enqueue({ ...mockErrors.serverError(), path: '/v1/embeddings' })
    const client = clientFor(mock)
    await expect(client.models.list()).resolves.toBeDefined()
    await expect(
      client.embeddings.create({ model: 'text-embedding-3-small', input: 'x' }),
    ).rejects.toMatchObject({ status: 500 })
  })

  it('sends an error event mid-stream that openai-node raises', async () => {
    const mock = createMockOpenAI({ reply: 'a b c d e' })
    mock.enqueue(mockErrors.midStreamError({ afterChunks: 2 }))
    const stream = await clientFor(mock).chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [],
      stream: true,
    })
    let text = ''
    const error = await (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? ''
    })().catch((caught: unknown) => caught)
    expect(text).toBe('a b')
    expect(error).toBeInstanceOf(OpenAI.APIError)
    expect((error as Error).message).toContain('server had an error')
  })

  it('sends an error event in a responses stream after the scripted number of deltas', async () => {
    const mock = createMockOpenAI({ reply: 'a b c' })
    mock.enqueue(mockErrors.midStreamError({ afterChunks: 1 }))
    const stream = await clientFor(mock).responses.create({ model: 'gpt-5-mini', input: 'hi', stream: true })
    const types: string[] = []
    const error = await (async () => {
      for await (const event of stream) types.push(event.type)
    })().catch((caught: unknown) => caught)
    expect(types.filter((type) => type === 'response.output_text.delta')).toHaveLength(1)
    expect(error).toBeInstanceOf(OpenAI.APIError)
    expect(error).toMatchObject({ code: 'server_error' })
  })

  it('leaves usage out when scripted, in JSON and in streams', async () => {
    const mock = createMockOpenAI()
    mock.enqueue(mockErrors.missingUsage(), mockErrors.missingUsage())
    const client = clientFor(mock)
    const completion = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [] })
    expect(completion.usage).toBeUndefined()
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [],
      stream: true,
      stream_options: { include_usage: true },
    })
    for await (const chunk of stream) expect(chunk.usage ?? undefined).toBeUndefined()
  })

  it('waits the scripted latency before answering', async () => {
    vi.useFakeTimers()
    try {
      const mock = createMockOpenAI({ latencyMs: 1000 })
      let answered = false
      const pending = mock
        .fetch('http://mock/v1/models', { headers: { authorization: 'Bearer k' } })
        .then(() => {
          answered = true
        })
      await vi.advanceTimersByTimeAsync(999)
      expect(answered).toBe(false)
      await vi.advanceTimersByTimeAsync(1)
      await pending
      expect(answered).toBe(true)
    } finally {
      vi.useRealTimers()
    }
  })

  it('reports rate-limit headers and a request id on every answer', async () => {
    const mock = createMockOpenAI({ rateLimits: { limitRequests: 3 } })
    const call = () => mock.fetch('http://mock/v1/models', { headers: { authorization: `Bearer ${key}` } })
    await call()
    const response = await call()
    expect(response.headers.get('x-ratelimit-limit-requests')).toBe('3')
    expect(response.headers.get('x-ratelimit-remaining-requests')).toBe('1')
    expect(response.headers.get('x-ratelimit-reset-requests')).toBe('6ms')
    expect(response.headers.get('x-request-id')).toBe('req_mock000002')
    mock.reset()
    expect(mock.requests).toHaveLength(0)
    expect((await call()).headers.get('x-ratelimit-remaining-requests')).toBe('2')
  })

  it('answers an unknown path with a 404 in OpenAI form', async () => {
    const mock = createMockOpenAI()
    const response = await mock.fetch('http://mock/v1/nope', {
      method: 'POST',
      headers: { authorization: 'Bearer k' },
    })
    expect(response.status).toBe(404)
    expect(await response.json()).toMatchObject({ error: { message: 'Invalid URL (POST /v1/nope)' } })
  })

  it('caps output at max_tokens and reports finish_reason length', async () => {
    const mock = createMockOpenAI({ reply: 'a b c d e f' })
    const completion = await clientFor(mock).chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [],
      max_completion_tokens: 2,
    })
    expect(completion.choices[0]?.finish_reason).toBe('length')
    expect(completion.usage?.completion_tokens).toBe(2)
  })
})

describe('createMockOpenAI listen', () => {
  let close: (() => Promise<void>) | undefined
  afterEach(async () => {
    await close?.()
    close = undefined
  })

  it('serves over HTTP on 127.0.0.1 for real clients', async () => {
    const mock = createMockOpenAI({ reply: 'over the wire' })
    const server = await mock.listen()
    close = server.close
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/)
    const client = new OpenAI({ apiKey: key, baseURL: server.url, maxRetries: 0 })
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      stream_options: { include_usage: true },
    })
    let text = ''
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? ''
    expect(text).toBe('over the wire')
    expect(mock.requests[0]?.key).toBe(key)
  })

  it('drops the connection mid-stream when scripted', async () => {
    const mock = createMockOpenAI({ reply: 'a b c d' })
    mock.enqueue(mockErrors.disconnect({ afterChunks: 1 }))
    const server = await mock.listen()
    close = server.close
    const client = new OpenAI({ apiKey: key, baseURL: server.url, maxRetries: 0 })
    const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [], stream: true })
    let text = ''
    await expect(
      (async () => {
        for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? ''
      })(),
    ).rejects.toThrow()
    expect(text).toBe('a')
  })
})
