import { mockErrors, type OpenAIErrorObject } from './mock-errors'

/** Token counts the mock reports. Any field given replaces the computed count. */
export interface MockUsage {
  promptTokens?: number
  completionTokens?: number
  cachedTokens?: number
  reasoningTokens?: number
}

/** What a scripted body may depend on. */
export interface MockContext {
  /** The bearer token presented, if any. */
  key: string | undefined
  path: string
  body: unknown
}

/** One scripted answer: an error body, a changed normal answer, or a broken stream. */
export interface MockResponse {
  /** Only use this answer for a request to this path (`/v1/chat/completions`). @default any path */
  path?: string
  /** HTTP status. @default 200 */
  status?: number
  /** A JSON body that replaces the normal answer (an error body, usually), or a function of the request context. */
  body?: unknown
  /** Extra headers, added to the usual `x-request-id` and `x-ratelimit-*`. */
  headers?: Record<string, string>
  /** Wait this long before answering. */
  latencyMs?: number
  /** The assistant's text for this answer. */
  reply?: string
  /** Usage for this answer. */
  usage?: MockUsage
  /** Leave usage out of the answer (JSON `usage` field and the final stream chunk). */
  omitUsage?: boolean
  /** Break a streamed answer. */
  stream?: {
    /** Send an error event after this many content chunks, then end the stream. */
    errorAfterChunks?: number
    error?: OpenAIErrorObject
    /** Drop the connection after this many content chunks. */
    disconnectAfterChunks?: number
  }
}

/** One request the mock received. */
export interface RecordedRequest {
  method: string
  /** The API path, from `/v1` on (`/v1/chat/completions`). */
  path: string
  url: string
  /** Lower-cased header names, including `authorization`, so tests can assert which key arrived. */
  headers: Record<string, string>
  /** The bearer token presented. */
  key: string | undefined
  /** The parsed JSON body, when there was one. */
  body: unknown
}

/** The rate limits the mock reports in `x-ratelimit-*` headers. */
export interface MockRateLimits {
  limitRequests: number
  limitTokens: number
  /** Go duration, as OpenAI sends it. */
  resetRequests: string
  resetTokens: string
}

/** Options for {@link createMockOpenAI}. */
export interface MockOpenAIOptions {
  /** Keys that are accepted; any other key gets a 401 `invalid_api_key`. @default any key is accepted */
  validKeys?: readonly string[]
  /** A standing answer for every call made with one key (e.g. a key with no quota). */
  keyResponses?: Readonly<Record<string, MockResponse>>
  /** The assistant's text. @default 'Hello from the mock OpenAI server.' */
  reply?: string | ((context: MockContext) => string)
  /** Usage to report instead of the counted one. */
  usage?: MockUsage
  /** Wait this long before each answer. @default 0 */
  latencyMs?: number
  /** Model ids listed by `/v1/models`. */
  models?: readonly string[]
  /** Answer 404 `model_not_found` for models not in `models`. @default false */
  rejectUnknownModels?: boolean
  /** Rate limits reported in headers; remaining counts go down with each request until `reset()`. */
  rateLimits?: Partial<MockRateLimits>
  /** Unix seconds used for `created` fields. @default 1767225600 (2026-01-01) */
  created?: number
}

/** A mock OpenAI upstream: an in-process `fetch`, and a real HTTP server on demand. */
export interface MockOpenAI {
  /** A `fetch` that answers as OpenAI does; pass it to `new OpenAI({ fetch })` or to keyguard. */
  fetch: typeof fetch
  /** The Web-standard handler behind `fetch` (Request in, Response out), for edge runtimes. */
  handle: (request: Request) => Promise<Response>
  /** Serve on 127.0.0.1 on a free port (Node only); `url` ends with `/v1`. */
  listen(): Promise<{ url: string; close(): Promise<void> }>
  /** Script one-shot answers, used in order by the next matching requests. */
  enqueue(...responses: MockResponse[]): void
  /** Every request received, oldest first. */
  readonly requests: RecordedRequest[]
  /** Forget scripted answers, recorded requests and rate-limit counters. */
  reset(): void
}

const defaultModels = [
  'gpt-4o',
  'gpt-4o-mini',
  'gpt-4.1',
  'gpt-4.1-mini',
  'gpt-4.1-nano',
  'gpt-5',
  'gpt-5-mini',
  'gpt-5-nano',
  'o4-mini',
  'text-embedding-3-small',
  'text-embedding-3-large',
]

/**
 * Create a mock OpenAI upstream for tests, examples and the demo: chat completions, responses and
 * embeddings (JSON and SSE streaming with usage), `/v1/models`, rate-limit headers, and scripted
 * errors with the bodies OpenAI really sends. It runs anywhere `Request`/`Response` exist; `listen()`
 * loads `node:http` only when called.
 *
 * @example
 * ```ts
 * const mock = createMockOpenAI({ validKeys: ['sk-proj-test'] })
 * const client = new OpenAI({ apiKey: 'sk-proj-test', fetch: mock.fetch })
 * mock.enqueue(mockErrors.insufficientQuota())
 * await expect(client.chat.completions.create({ model: 'gpt-4o-mini', messages: [] })).rejects.toThrow()
 * ```
 */
export function createMockOpenAI(options: MockOpenAIOptions = {}): MockOpenAI {
  const {
    validKeys,
    keyResponses = {},
    reply = 'Hello from the mock OpenAI server.',
    usage: defaultUsage = {},
    latencyMs = 0,
    models = defaultModels,
    rejectUnknownModels = false,
    created = 1767225600,
  } = options
  const limits: MockRateLimits = {
    limitRequests: 10000,
    limitTokens: 30000000,
    resetRequests: '6ms',
    resetTokens: '0s',
    ...options.rateLimits,
  }
  const accepted = validKeys === undefined ? undefined : new Set(validKeys)
  let queue: MockResponse[] = []
  const requests: RecordedRequest[] = []
  let served = 0
  let tokensUsed = 0

  async function handle(request: Request): Promise<Response> {
    served += 1
    const requestId = `req_mock${String(served).padStart(6, '0')}`
    const url = new URL(request.url)
    const v1 = url.pathname.indexOf('/v1/')
    const path = v1 === -1 ? url.pathname : url.pathname.slice(v1)
    const headers: Record<string, string> = {}
    request.headers.forEach((value, name) => {
      headers[name] = value
    })
    const authorization = request.headers.get('authorization') ?? ''
    const key = /^bearer\s+/i.test(authorization) ? authorization.replace(/^bearer\s+/i, '') : undefined
    const text = request.method === 'GET' || request.method === 'HEAD' ? '' : await request.text()
    let body: unknown
    if (text !== '') {
      try {
        body = JSON.parse(text)
      } catch {
        body = text
      }
    }
    requests.push({ method: request.method, path, url: request.url, headers, key, body })
    const context: MockContext = { key, path, body }

    const index = queue.findIndex((entry) => entry.path === undefined || entry.path === path)
    const scripted: MockResponse =
      (index === -1 ? undefined : queue.splice(index, 1)[0]) ??
      (key !== undefined ? keyResponses[key] : undefined) ??
      {}
    const wait = scripted.latencyMs ?? latencyMs
    if (wait > 0) await delay(wait, request.signal)

    const fields = isRecord(body) ? body : {}
    const model = typeof fields.model === 'string' ? fields.model : undefined
    const usage = { ...defaultUsage, ...scripted.usage }
    const prompt = usage.promptTokens ?? countPromptTokens(path, fields)
    const replyText = scripted.reply ?? (typeof reply === 'function' ? reply(context) : reply)
    const maxOutput = firstNumber(fields.max_completion_tokens, fields.max_tokens, fields.max_output_tokens)
    let pieces = splitPieces(replyText)
    const truncated = maxOutput !== undefined && pieces.length > maxOutput
    if (truncated) pieces = pieces.slice(0, maxOutput)
    const completion = usage.completionTokens ?? (path === '/v1/embeddings' ? 0 : pieces.length)
    tokensUsed += prompt + completion

    const baseHeaders: Record<string, string> = {
      'x-request-id': requestId,
      'openai-processing-ms': '1',
      'openai-version': '2020-10-01',
      'x-ratelimit-limit-requests': String(limits.limitRequests),
      'x-ratelimit-limit-tokens': String(limits.limitTokens),
      'x-ratelimit-remaining-requests': String(Math.max(limits.limitRequests - served, 0)),
      'x-ratelimit-remaining-tokens': String(Math.max(limits.limitTokens - tokensUsed, 0)),
      'x-ratelimit-reset-requests': limits.resetRequests,
      'x-ratelimit-reset-tokens': limits.resetTokens,
      ...scripted.headers,
    }
    const json = (status: number, payload: unknown) =>
      new Response(JSON.stringify(payload), {
        status,
        headers: { ...baseHeaders, 'content-type': 'application/json' },
      })
    const answer = (preset: MockResponse) =>
      json(preset.status ?? 400, typeof preset.body === 'function' ? preset.body(context) : preset.body)

    if (scripted.body !== undefined) {
      return json(
        scripted.status ?? 200,
        typeof scripted.body === 'function' ? scripted.body(context) : scripted.body,
      )
    }
    if (key === undefined || key === '') return answer(mockErrors.missingKey())
    if (accepted !== undefined && !accepted.has(key)) return answer(mockErrors.invalidKey())
    if (rejectUnknownModels && model !== undefined && !models.includes(model)) {
      return answer(mockErrors.modelNotFound(model))
    }

    const stream = fields.stream === true
    const counts = {
      prompt,
      completion,
      cached: usage.cachedTokens ?? 0,
      reasoning: usage.reasoningTokens ?? 0,
    }
    const modelName = model ?? 'gpt-4o-mini'
    const finish = truncated ? 'length' : 'stop'
    const omitUsage = scripted.omitUsage === true
    const sse = (events: string[]) =>
      new Response(sseStream(events, scripted.stream), {
        status: scripted.status ?? 200,
        headers: {
          ...baseHeaders,
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache',
        },
      })

    if (request.method === 'POST' && path === '/v1/chat/completions') {
      const id = `chatcmpl-mock${String(served).padStart(6, '0')}`
      if (!stream)
        return json(200, chatCompletion(id, created, modelName, pieces.join(''), finish, counts, omitUsage))
      const includeUsage =
        !omitUsage && isRecord(fields.stream_options) && fields.stream_options.include_usage === true
      return sse(chatChunks(id, created, modelName, pieces, finish, counts, includeUsage))
    }
    if (request.method === 'POST' && path === '/v1/responses') {
      const id = `resp_mock${String(served).padStart(6, '0')}`
      const response = responseObject(id, created, modelName, pieces.join(''), counts, omitUsage, truncated)
      if (!stream) return json(200, response)
      return sse(responseEvents(response, pieces))
    }
    if (request.method === 'POST' && path === '/v1/embeddings') {
      return json(200, embeddings(fields, modelName, prompt))
    }
    if (request.method === 'GET' && path === '/v1/models') {
      return json(200, {
        object: 'list',
        data: models.map((id) => ({ id, object: 'model', created, owned_by: 'system' })),
      })
    }
    return json(404, {
      error: {
        message: `Invalid URL (${request.method} ${path})`,
        type: 'invalid_request_error',
        param: null,
        code: null,
      },
    })
  }

  const mockFetch = ((input: RequestInfo | URL, init?: RequestInit) =>
    handle(new Request(input, init))) as typeof fetch

  return {
    fetch: mockFetch,
    handle,
    requests,
    enqueue(...responses) {
      queue.push(...responses)
    },
    reset() {
      queue = []
      requests.length = 0
      served = 0
      tokensUsed = 0
    },
    listen: () => listen(handle),
  }
}

// The specifier is a variable so bundlers for edge runtimes leave node:http out of the graph; the few
// shapes used are typed here, so this file type-checks without Node's types (core's tests import it).
const nodeHttp = 'node:http'

interface IncomingMessage extends AsyncIterable<unknown> {
  method?: string | undefined
  url?: string | undefined
  headers: Record<string, string | string[] | undefined>
}
interface ServerResponse {
  on(event: 'close', listener: () => void): unknown
  writeHead(status: number, headers: Record<string, string>): unknown
  flushHeaders(): void
  write(chunk: Uint8Array, callback: (error?: Error | null) => void): boolean
  end(): unknown
  destroy(): unknown
}
interface NodeHttpServer {
  once(event: 'error', listener: (error: Error) => void): unknown
  listen(port: number, host: string, callback: () => void): unknown
  address(): { port: number } | string | null
  closeAllConnections(): void
  close(callback: (error?: Error) => void): unknown
}
interface NodeHttp {
  createServer(handler: (incoming: IncomingMessage, outgoing: ServerResponse) => void): NodeHttpServer
}

async function listen(handle: (request: Request) => Promise<Response>) {
  const http = (await import(/* @vite-ignore */ nodeHttp)) as NodeHttp
  const server = http.createServer((incoming, outgoing) => {
    serveNode(handle, incoming, outgoing).catch(() => outgoing.destroy())
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const address = server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  return {
    url: `http://127.0.0.1:${port}/v1`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections()
        server.close((error) => (error ? reject(error) : resolve()))
      }),
  }
}

async function serveNode(
  handle: (request: Request) => Promise<Response>,
  incoming: IncomingMessage,
  outgoing: ServerResponse,
) {
  const chunks: Uint8Array[] = []
  for await (const chunk of incoming) chunks.push(chunk as Uint8Array)
  const headers = new Headers()
  for (const [name, value] of Object.entries(incoming.headers)) {
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value)
  }
  const abort = new AbortController()
  outgoing.on('close', () => abort.abort())
  const hasBody = incoming.method !== 'GET' && incoming.method !== 'HEAD'
  const response = await handle(
    new Request(`http://127.0.0.1${incoming.url ?? '/'}`, {
      method: incoming.method ?? 'GET',
      headers,
      ...(hasBody ? { body: concat(chunks) } : {}),
      signal: abort.signal,
    }),
  )
  const outHeaders: Record<string, string> = {}
  response.headers.forEach((value, name) => {
    outHeaders[name] = value
  })
  outgoing.writeHead(response.status, outHeaders)
  outgoing.flushHeaders()
  if (response.body === null) {
    outgoing.end()
    return
  }
  const reader = response.body.getReader()
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      // wait for each write so a scripted disconnect drops the socket after what was sent
      await new Promise<void>((resolve, reject) =>
        outgoing.write(value, (error) => (error ? reject(error) : resolve())),
      )
    }
    outgoing.end()
  } catch {
    // a scripted disconnect: drop the socket the way a broken upstream does
    outgoing.destroy()
  }
}

function concat(chunks: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const total = chunks.reduce((sum, chunk) => sum + chunk.byteLength, 0)
  const out = new Uint8Array(total)
  let offset = 0
  for (const chunk of chunks) {
    out.set(chunk, offset)
    offset += chunk.byteLength
  }
  return out
}

function delay(ms: number, signal: AbortSignal | null) {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms)
    signal?.addEventListener('abort', () => {
      clearTimeout(timer)
      reject(signal.reason)
    })
  })
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function firstNumber(...values: unknown[]): number | undefined {
  for (const value of values) if (typeof value === 'number' && Number.isFinite(value)) return value
  return undefined
}

/** About one token per word, as the mock counts output. */
function splitPieces(text: string): string[] {
  return text.match(/\s*\S+/g) ?? []
}

/** A rough, deterministic count: one token per four characters, plus per-message overhead. */
function roughTokens(text: string): number {
  return Math.ceil(text.length / 4)
}

function textOf(value: unknown): string {
  if (typeof value === 'string') return value
  if (Array.isArray(value)) return value.map(textOf).join(' ')
  if (isRecord(value)) {
    if (typeof value.text === 'string') return value.text
    if ('content' in value) return textOf(value.content)
  }
  return ''
}

function countPromptTokens(path: string, fields: Record<string, unknown>): number {
  if (path === '/v1/embeddings') {
    const input = fields.input
    const items = Array.isArray(input) ? input : [input]
    return items.reduce<number>(
      (sum, item) =>
        sum + (typeof item === 'string' ? roughTokens(item) : Array.isArray(item) ? item.length : 0),
      0,
    )
  }
  if (path === '/v1/responses') {
    const input = fields.input
    const messages = Array.isArray(input) ? input : [input]
    const instructions = typeof fields.instructions === 'string' ? roughTokens(fields.instructions) + 4 : 0
    return (
      instructions + messages.reduce<number>((sum, message) => sum + 4 + roughTokens(textOf(message)), 0) + 3
    )
  }
  const messages = Array.isArray(fields.messages) ? fields.messages : []
  return messages.reduce<number>((sum, message) => sum + 4 + roughTokens(textOf(message)), 0) + 3
}

interface Counts {
  prompt: number
  completion: number
  cached: number
  reasoning: number
}

function chatUsage(counts: Counts) {
  return {
    prompt_tokens: counts.prompt,
    completion_tokens: counts.completion,
    total_tokens: counts.prompt + counts.completion,
    prompt_tokens_details: { cached_tokens: counts.cached, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: counts.reasoning,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  }
}

function chatCompletion(
  id: string,
  created: number,
  model: string,
  content: string,
  finish: string,
  counts: Counts,
  omitUsage: boolean,
) {
  return {
    id,
    object: 'chat.completion',
    created,
    model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content, refusal: null, annotations: [] },
        logprobs: null,
        finish_reason: finish,
      },
    ],
    ...(omitUsage ? {} : { usage: chatUsage(counts) }),
    service_tier: 'default',
    system_fingerprint: 'fp_mock',
  }
}

/** SSE lines for a chat completion stream; the first element is the role chunk. */
function chatChunks(
  id: string,
  created: number,
  model: string,
  pieces: string[],
  finish: string,
  counts: Counts,
  includeUsage: boolean,
): string[] {
  const chunk = (choices: unknown[], usage?: unknown) =>
    `data: ${JSON.stringify({
      id,
      object: 'chat.completion.chunk',
      created,
      model,
      service_tier: 'default',
      system_fingerprint: 'fp_mock',
      choices,
      ...(includeUsage ? { usage: usage ?? null } : {}),
    })}\n\n`
  const delta = (value: Record<string, unknown>, finishReason: string | null = null) => ({
    index: 0,
    delta: value,
    logprobs: null,
    finish_reason: finishReason,
  })
  return [
    chunk([delta({ role: 'assistant', content: '', refusal: null })]),
    ...pieces.map((piece) => chunk([delta({ content: piece })])),
    chunk([delta({}, finish)]),
    ...(includeUsage ? [chunk([], chatUsage(counts))] : []),
    'data: [DONE]\n\n',
  ]
}

function responseObject(
  id: string,
  created: number,
  model: string,
  text: string,
  counts: Counts,
  omitUsage: boolean,
  truncated: boolean,
) {
  return {
    id,
    object: 'response',
    created_at: created,
    status: truncated ? 'incomplete' : 'completed',
    error: null,
    incomplete_details: truncated ? { reason: 'max_output_tokens' } : null,
    instructions: null,
    model,
    output: [
      {
        type: 'message',
        id: `msg_${id.slice(5)}`,
        status: truncated ? 'incomplete' : 'completed',
        role: 'assistant',
        content: [{ type: 'output_text', text, annotations: [], logprobs: [] }],
      },
    ],
    parallel_tool_calls: true,
    tool_choice: 'auto',
    tools: [],
    text: { format: { type: 'text' } },
    usage: omitUsage
      ? null
      : {
          input_tokens: counts.prompt,
          input_tokens_details: { cached_tokens: counts.cached },
          output_tokens: counts.completion,
          output_tokens_details: { reasoning_tokens: counts.reasoning },
          total_tokens: counts.prompt + counts.completion,
        },
  }
}

/** SSE events of a Responses API stream, ending with `response.completed` carrying usage. */
function responseEvents(response: ReturnType<typeof responseObject>, pieces: string[]): string[] {
  let sequence = 0
  const event = (type: string, fields: Record<string, unknown>) =>
    `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: sequence++, ...fields })}\n\n`
  const item = response.output[0]!
  const inProgress = { ...response, status: 'in_progress', output: [], usage: null }
  const emptyItem = { ...item, status: 'in_progress', content: [] }
  const part = { type: 'output_text', text: '', annotations: [], logprobs: [] }
  const text = pieces.join('')
  const final = response.status === 'completed' ? 'response.completed' : 'response.incomplete'
  return [
    event('response.created', { response: inProgress }),
    event('response.in_progress', { response: inProgress }),
    event('response.output_item.added', { output_index: 0, item: emptyItem }),
    event('response.content_part.added', { item_id: item.id, output_index: 0, content_index: 0, part }),
    ...pieces.map((delta) =>
      event('response.output_text.delta', {
        item_id: item.id,
        output_index: 0,
        content_index: 0,
        delta,
        logprobs: [],
      }),
    ),
    event('response.output_text.done', {
      item_id: item.id,
      output_index: 0,
      content_index: 0,
      text,
      logprobs: [],
    }),
    event('response.content_part.done', {
      item_id: item.id,
      output_index: 0,
      content_index: 0,
      part: { ...part, text },
    }),
    event('response.output_item.done', { output_index: 0, item }),
    event(final, { response }),
  ]
}

/**
 * Stream SSE events; a scripted fault counts content chunks after the first event (the role chunk or
 * `response.created`…), so `afterChunks: 0` breaks before any text.
 */
function sseStream(events: string[], fault: MockResponse['stream']): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder()
  const isResponses = events[0]?.startsWith('event:') === true
  const lead = isResponses ? 4 : 1
  let index = 0
  return new ReadableStream({
    pull(controller) {
      const sentContent = index - lead
      if (fault?.disconnectAfterChunks !== undefined && sentContent >= fault.disconnectAfterChunks) {
        controller.error(new TypeError('mock OpenAI: connection dropped mid-stream'))
        return
      }
      if (fault?.errorAfterChunks !== undefined && sentContent >= fault.errorAfterChunks) {
        const error = fault.error ?? {
          message: 'The server had an error while processing your request.',
          type: 'server_error',
          param: null,
          code: 'server_error',
        }
        const payload = isResponses
          ? `event: error\ndata: ${JSON.stringify({ type: 'error', code: error.code, message: error.message, param: error.param, sequence_number: index })}\n\n`
          : `data: ${JSON.stringify({ error })}\n\n`
        controller.enqueue(encoder.encode(payload))
        controller.close()
        return
      }
      const next = events[index++]
      if (next === undefined) controller.close()
      else controller.enqueue(encoder.encode(next))
    },
  })
}

function embeddings(fields: Record<string, unknown>, model: string, prompt: number) {
  const inputs = Array.isArray(fields.input) ? fields.input : [fields.input]
  const dimensions = typeof fields.dimensions === 'number' ? fields.dimensions : 8
  const base64 = fields.encoding_format === 'base64'
  return {
    object: 'list',
    data: inputs.map((input, index) => {
      const vector = Array.from({ length: dimensions }, (_, i) => vectorValue(textOf(input), i))
      return { object: 'embedding', index, embedding: base64 ? toBase64(vector) : vector }
    }),
    model,
    usage: { prompt_tokens: prompt, total_tokens: prompt },
  }
}

/** A deterministic value in [-1, 1) from the text and the dimension. */
function vectorValue(text: string, dimension: number): number {
  let hash = 2166136261 ^ dimension
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 16777619)
  return ((hash >>> 0) % 2000) / 1000 - 1
}

function toBase64(vector: number[]): string {
  const bytes = new Uint8Array(new Float32Array(vector).buffer)
  let binary = ''
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary)
}
