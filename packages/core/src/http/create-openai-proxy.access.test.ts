import { createMockOpenAI, exampleMockKey } from '@keyguard/testing'
import OpenAI from 'openai'
import { describe, expect, it } from 'vitest'
import { createKeyguard } from '../guard/create-keyguard'
import { memoryStore } from '../limits/memory-store'
import { spendLimit } from '../limits/spend-limit'
import type { KeyguardStore } from '../limits/store'
import { createOpenAIProxy, type OpenAIProxyOptions } from './create-openai-proxy'

const silent = { warn() {}, error() {} }
const keys = {
  'kg-acme': { tenant: 'acme' },
  'kg-globex': { tenant: 'globex' },
  'kg-broke': { tenant: 'broke' },
}

/** Two app instances (two guards, two proxies) over one store, as a fleet shares Redis. */
function setup(options: Partial<OpenAIProxyOptions> = {}, store: KeyguardStore = memoryStore()) {
  const mock = createMockOpenAI({ validKeys: [exampleMockKey] })
  const settled: number[] = []
  const instance = () => {
    const guard = createKeyguard({
      key: exampleMockKey,
      upstream: { fetch: mock.fetch },
      logger: silent,
      store,
      limits: [
        spendLimit({
          name: 'monthly',
          scope: 'tenant',
          period: 'month',
          limitFor: (id) => (id === 'broke' ? 0 : 10 ** 9),
        }),
      ],
    })
    guard.on('settle', (event) => settled.push(event.costNanos))
    const proxy = createOpenAIProxy({ keys, ...options })
    return (request: Request) => proxy(request, guard)
  }
  const instances = [instance(), instance()]
  let turn = 0
  const send = (key: string, method: string, path: string, body?: unknown) =>
    (instances[turn++ % 2] as (request: Request) => Promise<Response>)(
      new Request(`http://app.test${path}`, {
        method,
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      }),
    )
  const client = (key: string) =>
    new OpenAI({
      apiKey: key,
      baseURL: 'http://app.test/v1',
      maxRetries: 0,
      fetch: (url: string | URL | Request, init?: RequestInit) =>
        (instances[turn++ % 2] as (request: Request) => Promise<Response>)(new Request(url, init)),
    })
  return { mock, send, client, settled }
}

const responseBody = { model: 'gpt-4o-mini', input: 'hi', max_output_tokens: 20 }

describe('createOpenAIProxy', () => {
  it('refuses unpriced endpoints to a tenant at a $0 limit with 404 and sends nothing', async () => {
    const { send, mock } = setup()
    for (const [method, path] of [
      ['POST', '/v1/completions'],
      ['POST', '/v1/images/generations'],
      ['POST', '/v1/audio/speech'],
      ['POST', '/v1/videos'],
      ['POST', '/v1/batches'],
      ['POST', '/v1/fine_tuning/jobs'],
      ['POST', '/v1/responses/compact'],
      ['GET', '/v1/files'],
      ['GET', '/v1/chat/completions'],
      ['GET', '/v1/vector_stores'],
      ['POST', '/v1//images%2Fgenerations'],
    ] as const) {
      const response = await send(
        'kg-broke',
        method,
        path,
        method === 'GET' ? undefined : { model: 'gpt-4o-mini', prompt: 'hi' },
      )
      expect(response.status, `${method} ${path}`).toBe(404)
      expect(await response.json()).toMatchObject({
        error: { type: 'invalid_request_error', code: 'proxy.endpoint_not_allowed' },
      })
    }
    expect(mock.requests).toHaveLength(0)
  })

  it('serves the model list through an OpenAI client', async () => {
    const { client, mock } = setup()
    const models = await client('kg-broke').models.list()
    expect(models.data.length).toBeGreaterThan(0)
    expect(mock.requests[0]?.path).toBe('/v1/models')
  })

  it('refuses a priced endpoint whose body is not JSON, whatever its content type says', async () => {
    const { mock } = setup()
    const guard = createKeyguard({ key: exampleMockKey, upstream: { fetch: mock.fetch }, logger: silent })
    const proxy = createOpenAIProxy({ keys })
    const response = await proxy(
      new Request('http://app.test/v1/chat/completions', {
        method: 'POST',
        headers: { authorization: 'Bearer kg-acme', 'content-type': 'text/plain' },
        body: 'model=gpt-4o-mini',
      }),
      guard,
    )
    expect(response.status).toBe(400)
    expect(mock.requests).toHaveLength(0)
  })

  it('holds an opted-in endpoint at the price its rule gives before the call', async () => {
    const { send, mock } = setup({
      allow: [
        {
          method: 'POST',
          path: '/v1/images/generations',
          price: (body) => ({ costNanos: 40_000_000 * Number((body as { n?: number }).n ?? 1) }),
        },
      ],
    })
    const response = await send('kg-acme', 'POST', '/v1/images/generations', {
      model: 'gpt-image-1',
      prompt: 'a cat',
      n: 2,
    })
    expect(mock.requests[0]?.path).toBe('/v1/images/generations')
    expect(response.status).toBe(404) // the mock serves no images; the call still went through the guard
    const refused = await send('kg-broke', 'POST', '/v1/images/generations', {
      model: 'gpt-image-1',
      prompt: 'a cat',
    })
    expect(refused.status).toBe(402)
    expect(refused.headers.get('x-keyguard-error-code')).toBe('budget.hard_limit')
    expect(mock.requests).toHaveLength(1)
  })

  it('settles an opted-in call at its price', async () => {
    const { send, settled, mock } = setup({
      allow: [{ method: 'POST', path: '/v1/images/generations', price: () => ({ costNanos: 40_000_000 }) }],
    })
    mock.enqueue({ body: { created: 1, data: [{ b64_json: 'AA==' }] } })
    const response = await send('kg-acme', 'POST', '/v1/images/generations', {
      model: 'gpt-image-1',
      prompt: 'a cat',
    })
    expect(response.status).toBe(200)
    await response.arrayBuffer()
    await expect.poll(() => settled).toEqual([40_000_000])
  })

  it('refuses an opted-in call whose price rule fails, and sends nothing', async () => {
    const { send, mock } = setup({
      allow: [{ method: 'POST', path: '/v1/images/generations', price: () => ({ costNanos: 0.5 }) }],
    })
    const response = await send('kg-acme', 'POST', '/v1/images/generations', { prompt: 'a cat' })
    expect(response.status).toBe(500)
    expect(mock.requests).toHaveLength(0)
  })

  it('lists an opt-in without a price, or one that shadows a built-in route, at construction', () => {
    expect(() =>
      createOpenAIProxy({
        keys,
        allow: [
          { method: 'POST', path: '/v1/images/generations' } as never,
          { method: 'POST', path: '/v1/chat/completions', price: () => ({ costNanos: 0 }) },
          { method: 'POST', path: '/v1/images%2Fedits', price: () => ({ costNanos: 0 }) },
        ],
      }),
    ).toThrow(
      expect.objectContaining({
        code: 'config.invalid',
        problems: [
          expect.objectContaining({ path: 'allow[0].price' }),
          expect.objectContaining({ path: 'allow[1]' }),
          expect.objectContaining({ path: 'allow[2].path' }),
        ],
      }),
    )
  })
})

describe('createOpenAIProxy stored objects', () => {
  it('serves a stored response to the tenant that created it, on any instance of the fleet', async () => {
    const { client, mock } = setup()
    const created = await client('kg-acme').responses.create(responseBody)
    const before = mock.requests.length
    // the mock stores nothing, so upstream answers 404 too: what matters is that the call went there
    await expect(client('kg-acme').responses.retrieve(created.id)).rejects.toMatchObject({ status: 404 })
    await expect(client('kg-acme').responses.delete(created.id)).rejects.toMatchObject({ status: 404 })
    expect(mock.requests.slice(before).map((request) => `${request.method} ${request.path}`)).toEqual([
      `GET /v1/responses/${created.id}`,
      `DELETE /v1/responses/${created.id}`,
    ])
  })

  it("answers another tenant's response id exactly as an unknown one, and sends nothing", async () => {
    const { send, client, mock } = setup()
    const created = await client('kg-acme').responses.create(responseBody)
    const before = mock.requests.length
    const answers = []
    for (const [method, path] of [
      ['GET', `/v1/responses/${created.id}`],
      ['DELETE', `/v1/responses/${created.id}`],
      ['GET', `/v1/responses/${created.id}/input_items`],
    ] as const) {
      const foreign = await send('kg-globex', method, path)
      expect(foreign.status).toBe(404)
      answers.push(await foreign.json())
    }
    expect(answers[0]).toEqual({
      error: {
        message: `No response found with id '${created.id}'.`,
        type: 'invalid_request_error',
        param: null,
        code: null,
      },
    })
    const unknown = await send('kg-globex', 'GET', '/v1/responses/resp_unknown')
    expect(await unknown.json()).toEqual({
      error: {
        message: "No response found with id 'resp_unknown'.",
        type: 'invalid_request_error',
        param: null,
        code: null,
      },
    })
    expect([...unknown.headers.keys()].filter((name) => name.startsWith('x-keyguard'))).toEqual([])
    await expect(client('kg-globex').responses.retrieve(created.id)).rejects.toBeInstanceOf(
      OpenAI.NotFoundError,
    )
    expect(mock.requests).toHaveLength(before)
  })

  it('claims a streamed response before the caller can read its id', async () => {
    const { client, mock } = setup()
    const stream = await client('kg-acme').responses.create({ ...responseBody, stream: true })
    let id = ''
    for await (const event of stream) if (event.type === 'response.created') id = event.response.id
    const before = mock.requests.length
    await expect(client('kg-globex').responses.retrieve(id)).rejects.toMatchObject({ status: 404 })
    expect(mock.requests).toHaveLength(before)
    await expect(client('kg-acme').responses.retrieve(id)).rejects.toMatchObject({ status: 404 })
    expect(mock.requests).toHaveLength(before + 1)
  })

  it('keeps a stored chat completion to its creator and refuses a foreign previous_response_id', async () => {
    const { client, send, mock } = setup()
    const stored = await client('kg-acme').chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 20,
      store: true,
    })
    const before = mock.requests.length
    expect((await send('kg-globex', 'GET', `/v1/chat/completions/${stored.id}`)).status).toBe(404)
    expect((await send('kg-globex', 'GET', `/v1/chat/completions/${stored.id}/messages`)).status).toBe(404)
    expect(mock.requests).toHaveLength(before)
    await send('kg-acme', 'GET', `/v1/chat/completions/${stored.id}`)
    expect(mock.requests).toHaveLength(before + 1)

    const first = await client('kg-acme').responses.create(responseBody)
    const count = mock.requests.length
    const chained = await send('kg-globex', 'POST', '/v1/responses', {
      ...responseBody,
      previous_response_id: first.id,
    })
    expect(chained.status).toBe(400)
    expect(await chained.json()).toEqual({
      error: {
        message: `Previous response with id '${first.id}' not found.`,
        type: 'invalid_request_error',
        param: 'previous_response_id',
        code: 'previous_response_not_found',
      },
    })
    expect(mock.requests).toHaveLength(count)
    await client('kg-acme').responses.create({ ...responseBody, previous_response_id: first.id })
    expect(mock.requests).toHaveLength(count + 1)
  })

  it('refuses a request that names a file, vector store, conversation or item by id', async () => {
    const { send, mock } = setup()
    for (const body of [
      { ...responseBody, input: [{ role: 'user', content: [{ type: 'input_file', file_id: 'file-1' }] }] },
      { ...responseBody, tools: [{ type: 'file_search', vector_store_ids: ['vs_1'] }] },
      { ...responseBody, conversation: 'conv_1' },
      { ...responseBody, input: [{ type: 'item_reference', id: 'msg_1' }] },
      { ...responseBody, tools: [{ type: 'code_interpreter', container: 'cntr_1' }] },
      {
        ...responseBody,
        tools: [{ type: 'code_interpreter', container: { type: 'auto', file_ids: ['file-1'] } }],
      },
    ]) {
      const response = await send('kg-acme', 'POST', '/v1/responses', body)
      expect(response.status).toBe(400)
      expect(await response.json()).toMatchObject({ error: { code: 'request.invalid' } })
    }
    const chat = await send('kg-acme', 'POST', '/v1/chat/completions', {
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: [{ type: 'file', file: { file_id: 'file-1' } }] }],
    })
    expect(chat.status).toBe(400)
    const replay = await send('kg-acme', 'POST', '/v1/chat/completions', {
      model: 'gpt-4o-mini',
      messages: [{ role: 'assistant', audio: { id: 'audio_1' } }],
    })
    expect(replay.status).toBe(400)
    expect(mock.requests).toHaveLength(0)
    const fresh = await send('kg-acme', 'POST', '/v1/responses', {
      ...responseBody,
      tools: [{ type: 'code_interpreter', container: { type: 'auto' } }],
    })
    expect(fresh.status).toBe(200)
    const schema = {
      type: 'object',
      properties: { conversation: { type: 'string' }, file_id: { type: 'string' } },
    }
    const structured = await send('kg-acme', 'POST', '/v1/responses', {
      ...responseBody,
      text: { format: { type: 'json_schema', name: 'reply', schema } },
      tools: [{ type: 'function', name: 'lookup', parameters: schema }],
      metadata: { conversation: 'mine' },
    })
    expect(structured.status).toBe(200)
  })

  it('serves no stored object when the store records no owners', async () => {
    const { reserve, settle, release, peek, adjust } = memoryStore()
    const { client, mock } = setup({}, { reserve, settle, release, peek, adjust })
    const created = await client('kg-acme').responses.create(responseBody)
    const before = mock.requests.length
    await expect(client('kg-acme').responses.retrieve(created.id)).rejects.toMatchObject({ status: 404 })
    expect(mock.requests).toHaveLength(before)
  })
})
