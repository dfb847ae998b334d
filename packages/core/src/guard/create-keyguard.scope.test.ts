import { createMockOpenAI, exampleMockKey, fakeClock } from '@keyguard/testing'
import OpenAI from 'openai'
import { describe, expect, it } from 'vitest'
import { isKeyguardError } from '../errors/keyguard-error'
import { createOpenAIProxy } from '../http/create-openai-proxy'
import type { RequestScope } from '../limits/limit-policy'
import { memoryStore } from '../limits/memory-store'
import { requestLimit } from '../limits/request-limit'
import { spendLimit } from '../limits/spend-limit'
import type { KeyguardStore } from '../limits/store'
import { usd } from '../pricing/usd'
import { createKeyguard } from './create-keyguard'

const silent = { warn() {}, error() {} }

// Counts every store write, so a test can prove a refusal wrote nothing.
function countingStore(store: KeyguardStore) {
  const writes: string[] = []
  const counted: KeyguardStore = {
    ...store,
    reserve: (input) => {
      writes.push('reserve')
      return store.reserve(input)
    },
    settle: (input) => {
      writes.push('settle')
      return store.settle(input)
    },
    adjust: (input) => {
      writes.push('adjust')
      return store.adjust(input)
    },
  }
  return { store: counted, writes }
}

function setup() {
  const clock = fakeClock('2026-11-28T12:00:00Z')
  const mock = createMockOpenAI({ validKeys: [exampleMockKey] })
  const { store, writes } = countingStore(memoryStore({ now: clock.now }))
  const guard = createKeyguard({
    key: exampleMockKey,
    upstream: { fetch: mock.fetch },
    now: clock.now,
    store,
    logger: silent,
    limits: [spendLimit({ name: 'tiny', scope: 'tenant', limit: usd(0.000000001), period: 'month' })],
  })
  return { mock, guard, writes }
}

const chat = (fetch: typeof globalThis.fetch) =>
  new OpenAI({ apiKey: 'unused', fetch, maxRetries: 0 }).chat.completions.create({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'hi' }],
    max_tokens: 16,
  })

describe('createKeyguard', () => {
  it.each([
    ['names no tenant', {}],
    ['names tenant: undefined', { tenant: undefined }],
    ['names an empty tenant', { tenant: '' }],
    ['names a blank tenant', { tenant: '   ' }],
  ])(
    'refuses an openai-node call that %s with scope.missing, six times in a row, sending and writing nothing',
    async (_, scope) => {
      const { guard, mock, writes } = setup()
      for (let call = 0; call < 6; call++) {
        const error = await chat(guard.for(scope as RequestScope).fetch).then(
          () => undefined,
          (rejection: unknown) => rejection,
        )
        expect(error).toMatchObject({ status: 500, error: { code: 'scope.missing' } })
      }
      expect(mock.requests).toHaveLength(0)
      expect(writes).toEqual([])
    },
  )

  it('throws scope.missing from fetch when errors are thrown', async () => {
    const mock = createMockOpenAI({ validKeys: [exampleMockKey] })
    const guard = createKeyguard({
      key: exampleMockKey,
      upstream: { fetch: mock.fetch },
      logger: silent,
      errors: 'throw',
      limits: [requestLimit({ scope: 'user', limit: 5, windowMs: 60_000 })],
    })
    // openai-node wraps what its fetch throws in APIConnectionError, keeping it as the cause.
    await expect(chat(guard.fetch)).rejects.toSatisfy(
      (error: Error) => isKeyguardError(error.cause) && error.cause.code === 'scope.missing',
    )
    expect(mock.requests).toHaveLength(0)
  })

  it('rejects a scope kind no limit knows, naming the closest one', () => {
    const { guard } = setup()
    expect(() => guard.for({ tennant: 't1' } as never)).toThrow(
      expect.objectContaining({
        code: 'config.invalid',
        message: expect.stringContaining('unknown scope kind `tennant`; did you mean `tenant`?'),
      }),
    )
    expect(() =>
      createKeyguard({
        key: exampleMockKey,
        limits: [spendLimit({ scope: 'tenant', limit: 1, period: 'month' })],
        scope: { tennant: 't1' } as never,
      }),
    ).toThrow(
      expect.objectContaining({ code: 'config.invalid', message: expect.stringContaining('tennant') }),
    )
  })

  it('keeps the built-in kinds and custom kinds the limits name', async () => {
    const mock = createMockOpenAI({ validKeys: [exampleMockKey] })
    const guard = createKeyguard({
      key: exampleMockKey,
      upstream: { fetch: mock.fetch },
      logger: silent,
      limits: [requestLimit({ scope: 'workspace', limit: 5, windowMs: 60_000 })],
    })
    const scoped = guard.for({ workspace: 'w1', user: 'u1', tenant: 't1' })
    await chat(scoped.fetch)
    expect(mock.requests).toHaveLength(1)
    const [state] = await scoped.usage()
    expect(state).toMatchObject({ scope: 'workspace:w1', used: 1 })
  })

  it('defaults the key scope from the configured key', async () => {
    const mock = createMockOpenAI({ validKeys: [exampleMockKey] })
    const guard = createKeyguard({
      key: exampleMockKey,
      upstream: { fetch: mock.fetch },
      logger: silent,
      limits: [requestLimit({ scope: 'key', limit: 1, windowMs: 60_000 })],
    })
    await chat(guard.fetch)
    await expect(chat(guard.fetch)).rejects.toMatchObject({ status: 429 })
    expect(mock.requests).toHaveLength(1)
  })

  it("counts a request with no tenant against the id a limit's whenMissing names", async () => {
    const mock = createMockOpenAI({ validKeys: [exampleMockKey] })
    const guard = createKeyguard({
      key: exampleMockKey,
      upstream: { fetch: mock.fetch },
      logger: silent,
      limits: [
        requestLimit({ scope: 'tenant', limit: 1, windowMs: 60_000, whenMissing: { id: 'anonymous' } }),
      ],
    })
    await chat(guard.fetch)
    await expect(chat(guard.for({ tenant: undefined }).fetch)).rejects.toMatchObject({ status: 429 })
    await chat(guard.for({ tenant: 't1' }).fetch)
    expect(mock.requests).toHaveLength(2)
  })

  it('refuses a proxied call whose virtual key has no scope for a limit, sending nothing', async () => {
    const { guard, mock, writes } = setup()
    const proxy = createOpenAIProxy({ keys: { 'kg-team': { team: 'acme' } } })
    const client = new OpenAI({
      apiKey: 'kg-team',
      baseURL: 'http://app.test/v1',
      maxRetries: 0,
      fetch: (url: string | URL | Request, init?: RequestInit) =>
        proxy(new Request(url instanceof Request ? url : String(url), init), guard),
    })
    const error = await client.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] })
      .then(
        () => undefined,
        (rejection: unknown) => rejection,
      )
    expect(error).toMatchObject({ status: 500, error: { code: 'config.invalid' } })
    expect(mock.requests).toHaveLength(0)
    expect(writes).toEqual([])
    const missing = createOpenAIProxy({ keys: { 'kg-none': {} } })
    const response = await missing(
      new Request('http://app.test/v1/chat/completions', {
        method: 'POST',
        headers: { authorization: 'Bearer kg-none', 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
      }),
      guard,
    )
    expect(response.status).toBe(500)
    expect(await response.json()).toMatchObject({ error: { code: 'scope.missing' } })
    expect(mock.requests).toHaveLength(0)
  })
})
