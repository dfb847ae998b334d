import { checkOptions } from '@keyguard/core'
import { checkKey } from './check-key'
import { computeUsage } from './compute-usage'
import { createResponders } from './create-responders'
import { createResponseQueue } from './create-response-queue'
import { delay } from './delay'
import { handleChatCompletions } from './handle-chat-completions'
import { handleEmbeddings } from './handle-embeddings'
import { defaultModels, handleModels } from './handle-models'
import { handleResponses } from './handle-responses'
import { isRecord } from './is-record'
import { listen } from './listen'
import { mockErrors } from './mock-errors'
import type { MockContext, MockResponse, MockUsage } from './mock-response'
import { type MockRateLimits, rateLimitHeaders } from './rate-limit-headers'
import { type RecordedRequest, recordRequest } from './record-request'

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

const mockOptionKeys = [
  'validKeys',
  'keyResponses',
  'reply',
  'usage',
  'latencyMs',
  'models',
  'rejectUnknownModels',
  'rateLimits',
  'created',
] as const satisfies readonly (keyof MockOpenAIOptions)[]

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
  checkOptions('createMockOpenAI', options, mockOptionKeys)
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
  const queue = createResponseQueue(keyResponses)
  const requests: RecordedRequest[] = []
  let served = 0
  let tokensUsed = 0

  async function handle(request: Request): Promise<Response> {
    served += 1
    const serial = String(served).padStart(6, '0')
    const recorded = await recordRequest(request)
    requests.push(recorded)
    const { method, path, key, body } = recorded
    const context: MockContext = { key, path, body }

    const scripted = queue.take(path, key)
    const wait = scripted.latencyMs ?? latencyMs
    if (wait > 0) await delay(wait, request.signal)

    const fields = isRecord(body) ? body : {}
    const model = typeof fields.model === 'string' ? fields.model : undefined
    const replyText = scripted.reply ?? (typeof reply === 'function' ? reply(context) : reply)
    const usage = computeUsage(path, fields, { ...defaultUsage, ...scripted.usage }, replyText)
    tokensUsed += usage.counts.prompt + usage.counts.completion

    const respond = createResponders(
      {
        'x-request-id': `req_mock${serial}`,
        'openai-processing-ms': '1',
        'openai-version': '2020-10-01',
        ...rateLimitHeaders(limits, { served, tokensUsed }),
        ...scripted.headers,
      },
      scripted,
      context,
    )
    if (scripted.body !== undefined) return respond.answer(scripted, 200)
    const refusal = checkKey(key, accepted)
    if (refusal !== undefined) return respond.answer(refusal)
    if (rejectUnknownModels && model !== undefined && !models.includes(model)) {
      return respond.answer(mockErrors.modelNotFound(model))
    }

    const input = {
      serial,
      created,
      model: model ?? 'gpt-4o-mini',
      fields,
      ...usage,
      omitUsage: scripted.omitUsage === true,
    }
    if (method === 'POST' && path === '/v1/chat/completions') return handleChatCompletions(input, respond)
    if (method === 'POST' && path === '/v1/responses') return handleResponses(input, respond)
    if (method === 'POST' && path === '/v1/embeddings') return handleEmbeddings(input, respond)
    if (method === 'GET' && path === '/v1/models') return handleModels(models, created, respond)
    return respond.json(404, {
      error: {
        message: `Invalid URL (${method} ${path})`,
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
      queue.clear()
      requests.length = 0
      served = 0
      tokensUsed = 0
    },
    listen: () => listen(handle),
  }
}
