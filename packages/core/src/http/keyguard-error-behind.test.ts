import { createMockOpenAI, exampleMockKey } from '@keyguard/testing'
import OpenAI from 'openai'
import { describe, expect, it } from 'vitest'
import { KeyguardError } from '../errors/keyguard-error'
import { createKeyguard } from '../guard/create-keyguard'
import { requestLimit } from '../limits/request-limit'
import { guardRequest } from './guard-request'
import { keyguardErrorBehind } from './keyguard-error-behind'

const silent = { warn() {}, error() {} }
const chat = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'hi' }], max_tokens: 10 }
const unreachable = async (): Promise<Response> => {
  throw new TypeError('fetch failed')
}

async function errorOf(call: Promise<unknown>): Promise<unknown> {
  return call.then(
    () => expect.unreachable('the call succeeded'),
    (error: unknown) => error,
  )
}

describe('keyguardErrorBehind', () => {
  it("finds keyguard's upstream.connection inside openai-node's APIConnectionError", async () => {
    const guard = createKeyguard({ key: exampleMockKey, upstream: { fetch: unreachable }, logger: silent })
    const openai = new OpenAI({ apiKey: 'unused', fetch: guard.fetch, maxRetries: 0 })
    const error = await errorOf(openai.chat.completions.create(chat))
    expect(error).toBeInstanceOf(OpenAI.APIConnectionError)
    expect(keyguardErrorBehind(error)).toMatchObject({ code: 'upstream.connection', clientStatus: 502 })
  })

  it('answers with the refusal recorded for the request when openai-node raised an APIError for it', async () => {
    const mock = createMockOpenAI({ validKeys: [exampleMockKey] })
    const guard = createKeyguard({
      key: exampleMockKey,
      upstream: { fetch: mock.fetch },
      logger: silent,
      limits: [requestLimit({ name: 'rpm', scope: 'tenant', limit: 1, windowMs: 60_000 })],
    })
    const owner = {}
    const request = guardRequest(guard, { tenant: 'acme' }, {}, owner)
    const openai = new OpenAI({ apiKey: 'unused', fetch: request.guard.fetch, maxRetries: 0 })
    await openai.chat.completions.create(chat)
    const error = await errorOf(openai.chat.completions.create(chat))
    expect(keyguardErrorBehind(error, owner)).toBe(request.error)
    expect(request.error?.code).toBe('rate.requests')
    expect(mock.requests).toHaveLength(1)
  })

  it("classifies an OpenAI client's own errors: a failed connection and an upstream 429", async () => {
    const offline = new OpenAI({ apiKey: exampleMockKey, fetch: unreachable, maxRetries: 0 })
    const connection = await errorOf(offline.chat.completions.create(chat))
    expect(keyguardErrorBehind(connection)).toMatchObject({ code: 'upstream.connection' })
    const mock = createMockOpenAI({ validKeys: [exampleMockKey] })
    mock.enqueue({ status: 429, body: { error: { type: 'requests', code: 'rate_limit_exceeded' } } })
    const direct = new OpenAI({ apiKey: exampleMockKey, fetch: mock.fetch, maxRetries: 0 })
    const limited = await errorOf(direct.chat.completions.create(chat))
    expect(keyguardErrorBehind(limited)).toMatchObject({ code: 'rate.upstream' })
  })

  it('leaves errors that are not about an OpenAI call, and survives a cause cycle', () => {
    const cyclic = new Error('cycle') as Error & { cause?: unknown }
    cyclic.cause = cyclic
    expect(keyguardErrorBehind(cyclic)).toBeUndefined()
    expect(keyguardErrorBehind(new TypeError('fetch failed'))).toBeUndefined()
    expect(keyguardErrorBehind('boom')).toBeUndefined()
    const wrapped = new Error('outer', {
      cause: new KeyguardError({ code: 'store.unavailable', message: 'down' }),
    })
    expect(keyguardErrorBehind(wrapped)?.code).toBe('store.unavailable')
  })
})
