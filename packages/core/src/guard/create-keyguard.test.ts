import { createMockOpenAI, fakeClock, mockErrors } from '@keyguard/testing'
import { describe, expect, it } from 'vitest'
import { isKeyguardError, type KeyguardError } from '../errors/keyguard-error'
import type { RequestEstimate } from '../estimate/estimate-request'
import { credits } from '../limits/credits'
import { memoryStore } from '../limits/memory-store'
import { requestLimit } from '../limits/request-limit'
import { spendLimit } from '../limits/spend-limit'
import { createKeyguard } from './create-keyguard'
import type { KeyguardEvent } from './keyguard-events'
import type { KeyguardOptions } from './keyguard-options'
import { keyguardResult } from './keyguard-result'

// A well-formed project key that exists nowhere else: if it shows up in any output, it leaked.
const canary = `sk-proj-${'C4n4ryK3y'.repeat(5)}T3stW8q8A`
const url = 'https://api.openai.com/v1'
const chatBody = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'Say hello' }],
    max_tokens: 100,
    ...extra,
  })

function setup(options: Partial<KeyguardOptions> = {}) {
  const clock = fakeClock('2026-11-28T12:00:00Z')
  const mock = createMockOpenAI()
  const events: KeyguardEvent[] = []
  const logs: unknown[] = []
  const guard = createKeyguard({
    key: canary,
    upstream: { fetch: mock.fetch },
    now: clock.now,
    store: memoryStore({ now: clock.now }),
    logger: { warn: (...args) => logs.push(args), error: (...args) => logs.push(args) },
    ...options,
  })
  for (const type of [
    'settle',
    'denied',
    'upstream-error',
    'upstream-rate-limits',
    'soft-limit',
    'hard-limit',
    'credits-low',
    'recharge-requested',
    'recharge-succeeded',
    'recharge-failed',
    'lease-expired',
    'circuit-open',
    'circuit-closed',
    'clamped',
  ] as const)
    guard.on(type, (event) => events.push(event))
  const post = (path: string, body: string, init: RequestInit = {}) =>
    guard.fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer unused' },
      body,
      ...init,
    })
  return { clock, mock, guard, events, logs, post }
}

describe('createKeyguard', () => {
  it('warns once through its logger when the token counter cannot load', async () => {
    const warnings: unknown[][] = []
    const guard = createKeyguard({
      key: 'sk-proj-test0123456789abcdefghijklmnopqrstuvwxyzABCDEFGH',
      estimate: {
        counter: { name: 'broken', exact: true, forEncoding: () => Promise.reject(new Error('no wasm')) },
      },
      logger: { warn: (...args: unknown[]) => warnings.push(args), error: () => {} },
    })
    const body = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], max_tokens: 5 }
    await guard.estimate({ endpoint: '/v1/chat/completions', body })
    await guard.for({ tenant: 't1' }).estimate({ endpoint: '/v1/chat/completions', body })
    expect(warnings.map(([message]) => String(message))).toEqual([expect.stringContaining('no wasm')])
  })

  it('counts a resent message once, unless countCache is false', async () => {
    const system = `You are a careful assistant. ${'Follow the house rules. '.repeat(20)}`
    const counted = async (countCache?: false) => {
      const seen: string[] = []
      const { post } = setup({
        estimate: {
          counter: {
            name: 'spy',
            exact: true,
            forEncoding: () => (text: string) => {
              seen.push(text)
              return text.length
            },
          },
          ...(countCache === undefined ? {} : { countCache }),
        },
      })
      for (const turn of ['first question', 'second question']) {
        const response = await post(
          '/chat/completions',
          chatBody({
            messages: [
              { role: 'system', content: system },
              { role: 'user', content: turn },
            ],
          }),
        )
        await response.text()
        expect(keyguardResult(response)?.estimate?.inputTokens).toBe(
          3 + 6 + system.length + 3 + 4 + turn.length + 3,
        )
      }
      return seen.filter((text) => text === system).length
    }
    expect(await counted()).toBe(1)
    expect(await counted(false)).toBe(2)
  })

  it('forwards with the real key in place of the caller’s, and settles the JSON usage', async () => {
    const { guard, mock, post } = setup()
    const response = await post('/chat/completions', chatBody())
    expect(response.status).toBe(200)
    const body = (await response.json()) as { usage: { prompt_tokens: number } }
    expect(body.usage).toMatchObject({ prompt_tokens: 10, completion_tokens: 6 })

    expect(mock.requests).toHaveLength(1)
    expect(mock.requests[0]?.headers.authorization).toBe(`Bearer ${canary}`)
    // 9 input tokens and the 100-token output bound at gpt-4o-mini's $0.15 / $0.60 per 1M (priority tier held)
    const estimate = Number(response.headers.get('x-keyguard-estimate'))
    expect(estimate).toBe(102_250)

    const settled = await keyguardResult(response)?.settled
    expect(settled?.estimated).toBe(false)
    // the mock's usage: 10 input tokens × 150 nanos + 6 output tokens × 600 nanos
    expect(settled?.costNanos).toBe(10 * 150 + 6 * 600)
    expect(guard.scope).toEqual({})
  })

  it('forces include_usage on chat streams and settles from the final usage chunk', async () => {
    const { mock, post } = setup()
    const response = await post('/chat/completions', chatBody({ stream: true }))
    expect(response.headers.get('content-type')).toContain('text/event-stream')
    const text = await response.text()
    expect(text).toContain('[DONE]')
    const sent = mock.requests[0]?.body as { stream_options: { include_usage: boolean } }
    expect(sent.stream_options.include_usage).toBe(true)
    const settled = await keyguardResult(response)?.settled
    expect(settled).toMatchObject({ ending: 'complete', estimated: false })
    expect(settled?.cost?.tokens).toMatchObject({ input: 10, output: 6 })
    expect(settled?.costNanos).toBe(10 * 150 + 6 * 600)
  })

  it('settles a responses API stream from its response.completed event', async () => {
    const { post } = setup()
    const response = await post(
      '/responses',
      JSON.stringify({ model: 'gpt-4o-mini', input: 'Hi', stream: true }),
    )
    await response.text()
    const settled = await keyguardResult(response)?.settled
    expect(settled).toMatchObject({ endpoint: '/v1/responses', estimated: false })
    expect(settled?.cost?.tokens).toMatchObject({ input: 8, output: 6 })
    expect(settled?.cost?.breakdown).toMatchObject({ input: 8 * 250, output: 6 * 1_000 })
    expect(settled?.costNanos).toBe(8_000)
  })

  it('settles an embeddings call', async () => {
    const { post } = setup()
    const response = await post(
      '/embeddings',
      JSON.stringify({ model: 'text-embedding-3-small', input: 'hello' }),
    )
    await response.arrayBuffer()
    const settled = await keyguardResult(response)?.settled
    // the mock counts 2 tokens; text-embedding-3-small is $0.02 per 1M, 20 nanos a token
    expect(settled?.costNanos).toBe(2 * 20)
    expect(settled?.estimated).toBe(false)
  })

  it('refuses over a hard spend limit without calling upstream', async () => {
    const { mock, post, events } = setup({
      limits: [spendLimit({ scope: 'global', limit: 1, period: 'day' })],
    })
    const response = await post('/chat/completions', chatBody())
    expect(response.status).toBe(402)
    expect(response.headers.get('x-keyguard-error-code')).toBe('budget.hard_limit')
    expect(response.headers.get('x-should-retry')).toBe('false')
    expect(mock.requests).toHaveLength(0)
    expect(keyguardResult(response)?.error?.code).toBe('budget.hard_limit')
    expect(events.map((event) => event.type)).toEqual(expect.arrayContaining(['denied', 'hard-limit']))
  })

  it('clamps the output bound to what the remaining budget can pay for, with onInsufficientBudget: "clamp"', async () => {
    const probe = setup()
    const body = JSON.parse(chatBody({ max_tokens: 1000 })) as Record<string, unknown>
    const full = (await probe.guard.estimate({ endpoint: '/v1/chat/completions', body })) as RequestEstimate
    const half = Math.floor(full.maxCostNanos / 2)
    const { mock, post, events } = setup({
      output: { onInsufficientBudget: 'clamp' },
      limits: [spendLimit({ scope: 'global', limit: half, period: 'day' })],
    })
    const response = await post('/chat/completions', JSON.stringify(body))
    expect(response.status).toBe(200)
    const clamped = Number(response.headers.get('x-keyguard-clamped-output-tokens'))
    expect(clamped).toBeGreaterThan(300)
    expect(clamped).toBeLessThan(500)
    expect(mock.requests[0]?.body).toMatchObject({ max_tokens: clamped })
    expect(Number(response.headers.get('x-keyguard-estimate'))).toBeLessThanOrEqual(half)
    expect(events.find((event) => event.type === 'clamped')).toMatchObject({ previousMaxOutputTokens: 1000 })
  })

  it('still refuses when the budget cannot pay for even a short answer', async () => {
    const { mock, post } = setup({
      output: { onInsufficientBudget: 'clamp' },
      limits: [spendLimit({ scope: 'global', limit: 10, period: 'day' })],
    })
    expect((await post('/chat/completions', chatBody())).status).toBe(402)
    expect(mock.requests).toHaveLength(0)
  })

  it('throws the KeyguardError instead with errors: "throw"', async () => {
    const { mock, post } = setup({
      errors: 'throw',
      limits: [spendLimit({ scope: 'global', limit: 1, period: 'day' })],
    })
    const error = await post('/chat/completions', chatBody()).catch((caught: unknown) => caught)
    expect(isKeyguardError(error) && error.code).toBe('budget.hard_limit')
    expect(mock.requests).toHaveLength(0)
  })

  it('admits exactly as many parallel calls as a hard limit can pay for at their maximum', async () => {
    const probe = setup()
    const estimate = await probe.guard.estimate({
      endpoint: '/v1/chat/completions',
      body: JSON.parse(chatBody()),
    })
    const max = estimate?.maxCostNanos as number
    // Upstream answers once all ten calls are admitted or refused. A call that settled sooner would
    // free its hold (it costs less than its maximum) and let one more in: on a busy machine, a guard
    // that yields to the event loop while it estimates can finish the first calls before the last start.
    let decided = 0
    let allDecided: () => void = () => {}
    const gate = new Promise<void>((resolve) => {
      allDecided = resolve
    })
    const decide = () => {
      decided += 1
      if (decided === 10) allDecided()
    }
    const { mock, post, guard } = setup({
      limits: [spendLimit({ scope: 'tenant', limit: max * 3 + Math.floor(max / 2), period: 'month' })],
      scope: { tenant: 't1' },
      upstream: {
        fetch: async (input, init) => {
          decide()
          await gate
          return mock.fetch(input, init)
        },
      },
    })
    guard.on('denied', decide)
    const responses = await Promise.all(
      Array.from({ length: 10 }, () => post('/chat/completions', chatBody())),
    )
    expect(responses.filter((response) => response.ok)).toHaveLength(3)
    expect(responses.filter((response) => response.status === 402)).toHaveLength(7)
    expect(mock.requests).toHaveLength(3)
    await Promise.all(responses.map((response) => response.arrayBuffer()))
  })

  it('emits a soft-limit event once per period', async () => {
    const { post, events } = setup({
      limits: [spendLimit({ scope: 'global', period: 'day', softAt: [0.000001], limit: 1_000_000_000 })],
    })
    for (let call = 0; call < 3; call++) {
      const response = await post('/chat/completions', chatBody())
      await response.arrayBuffer()
      await keyguardResult(response)?.settled
    }
    expect(events.filter((event) => event.type === 'soft-limit')).toHaveLength(1)
  })

  it('keeps per-scope usage, and for(scope) narrows the scope', async () => {
    const { guard } = setup({
      limits: [requestLimit({ scope: 'user', limit: 2, windowMs: 60_000 })],
    })
    const user = guard.for({ user: 'u9' })
    expect(user.scope).toEqual({ user: 'u9' })
    for (let call = 0; call < 2; call++) {
      const response = await user.fetch(`${url}/chat/completions`, { method: 'POST', body: chatBody() })
      await response.arrayBuffer()
      await keyguardResult(response)?.settled
    }
    const third = await user.fetch(`${url}/chat/completions`, { method: 'POST', body: chatBody() })
    expect(third.status).toBe(429)
    expect(third.headers.get('x-keyguard-error-code')).toBe('rate.requests')
    expect(third.headers.get('x-should-retry')).toBe('true')
    expect(Number(third.headers.get('retry-after-ms'))).toBeGreaterThan(0)
    const [state] = await guard.usage({ user: 'u9' })
    expect(state).toMatchObject({ scope: 'user:u9', kind: 'requests', used: 2, held: 0 })
    const other = await guard
      .for({ user: 'u1' })
      .fetch(`${url}/chat/completions`, { method: 'POST', body: chatBody() })
    expect(other.status).toBe(200)
  })

  it('refuses a scope that names a key the guard does not hold, and sends nothing', async () => {
    const { guard, mock } = setup()
    const response = await guard
      .for({ key: 'other' })
      .fetch(`${url}/chat/completions`, { method: 'POST', body: chatBody() })
    expect(response.status).toBe(503)
    expect(response.headers.get('x-keyguard-error-code')).toBe('key.missing')
    expect((await keyguardResult(response)?.settled)?.ending).toBe('refused')
    expect(mock.requests).toHaveLength(0)
  })

  it('sends each named key when the scope picks it', async () => {
    const other = `sk-proj-${'Oth3rK3y0'.repeat(5)}T3stA1b2C`
    const { guard, mock } = setup({ keys: { batch: other } })
    await guard.for({ key: 'batch' }).fetch(`${url}/chat/completions`, { method: 'POST', body: chatBody() })
    await guard.fetch(`${url}/chat/completions`, { method: 'POST', body: chatBody() })
    expect(mock.requests.map((request) => request.headers.authorization)).toEqual([
      `Bearer ${other}`,
      `Bearer ${canary}`,
    ])
  })

  it('passes endpoints it does not price with request limits only', async () => {
    const { guard, mock } = setup({ limits: [requestLimit({ scope: 'global', limit: 1, windowMs: 60_000 })] })
    const response = await guard.fetch(`${url}/models`)
    expect(response.status).toBe(200)
    expect(response.headers.get('x-keyguard-estimate')).toBeNull()
    await response.arrayBuffer()
    expect((await keyguardResult(response)?.settled)?.costNanos).toBe(0)
    expect((await guard.fetch(`${url}/models`)).status).toBe(429)
    expect(mock.requests).toHaveLength(1)
  })

  it('draws calls from prepaid credits and asks for an auto-recharge once below the threshold', async () => {
    const recharges: { scope: string; amount: number; key: string }[] = []
    const { guard, post, events } = setup({
      scope: { tenant: 't1' },
      limits: [
        credits({
          scope: 'tenant',
          lowBalance: 2_000_000_000,
          autoRecharge: {
            threshold: 1_000_000_000,
            amount: 5_000_000_000,
            maxPerPeriod: 1,
            recharge: (scope, amount, key) => {
              recharges.push({ scope, amount, key })
            },
          },
        }),
      ],
    })
    const refused = await post('/chat/completions', chatBody())
    expect(refused.status).toBe(402)
    expect(refused.headers.get('x-keyguard-error-code')).toBe('credits.exhausted')

    // Just above the recharge threshold: one call takes the balance below it.
    await guard.credits.grant({ tenant: 't1' }, 1_000_000_100)
    const before = await guard.credits.balance()
    expect(before).toBe(1_000_000_100)
    const response = await post('/chat/completions', chatBody())
    expect(response.status).toBe(200)
    await response.arrayBuffer()
    const settled = await keyguardResult(response)?.settled
    expect(settled?.costNanos).toBeGreaterThan(100)
    await expect.poll(() => guard.credits.balance()).toBe(before - (settled?.costNanos ?? 0) + 5_000_000_000)
    expect(recharges).toEqual([{ scope: 'tenant:t1', amount: 5_000_000_000, key: expect.any(String) }])
    const types = events.map((event) => event.type)
    expect(types).toEqual(expect.arrayContaining(['credits-low', 'recharge-requested', 'recharge-succeeded']))
  })

  it('maps an upstream 429 to rate.upstream, reports the rate-limit headers and returns the hold', async () => {
    const { guard, mock, post, events } = setup({
      limits: [spendLimit({ scope: 'global', limit: 1_000_000_000, period: 'day' })],
    })
    mock.enqueue({
      status: 429,
      body: { error: { type: 'requests', code: 'rate_limit_exceeded', message: 'Rate limit reached' } },
      headers: {
        'x-ratelimit-remaining-requests': '0',
        'x-ratelimit-reset-requests': '20ms',
        'x-ratelimit-limit-requests': '500',
      },
    })
    const response = await post('/chat/completions', chatBody())
    expect(response.status).toBe(429)
    expect(response.headers.get('x-keyguard-error-code')).toBe('rate.upstream')
    expect(response.headers.get('x-should-retry')).not.toBe('false')
    const limits = events.find((event) => event.type === 'upstream-rate-limits')
    expect(limits).toMatchObject({ keyName: 'default', limits: { remainingRequests: 0, limitRequests: 500 } })
    expect(guard.upstreamRateLimits()?.limits).toMatchObject({ remainingRequests: 0, resetRequestsMs: 20 })
    const [state] = await guard.usage()
    expect(state).toMatchObject({ used: 0, held: 0 })
  })

  it('maps insufficient_quota to quota.insufficient, not retryable', async () => {
    const { mock, post } = setup()
    mock.enqueue({
      status: 429,
      body: {
        error: {
          type: 'insufficient_quota',
          code: 'insufficient_quota',
          message: 'You exceeded your current quota',
        },
      },
    })
    const response = await post('/chat/completions', chatBody())
    expect(response.status).toBe(429)
    expect(response.headers.get('x-keyguard-error-code')).toBe('quota.insufficient')
    expect(response.headers.get('x-should-retry')).toBe('false')
  })

  it('settles what an aborted stream used, flagged as estimated', async () => {
    const { post } = setup({ limits: [spendLimit({ scope: 'global', limit: 1_000_000_000, period: 'day' })] })
    const response = await post('/chat/completions', chatBody({ stream: true, max_tokens: 1000 }))
    const reader = (response.body as ReadableStream<Uint8Array>).getReader()
    await reader.read()
    await reader.read()
    await reader.cancel()
    const settled = await keyguardResult(response)?.settled
    expect(settled).toMatchObject({ ending: 'cancelled', estimated: true })
    expect(settled?.costNanos).toBeGreaterThan(0)
    expect(settled?.costNanos).toBeLessThan(settled?.estimate?.maxCostNanos as number)
    expect(settled?.states[0]).toMatchObject({ held: 0, used: settled?.costNanos })
  })

  it('settles what a dropped stream used and keeps the error for the reader', async () => {
    const { mock, post } = setup()
    mock.enqueue({ reply: 'one two three four five six', stream: { disconnectAfterChunks: 3 } })
    const response = await post('/chat/completions', chatBody({ stream: true }))
    await expect(response.text()).rejects.toThrow('connection dropped')
    const settled = await keyguardResult(response)?.settled
    expect(settled).toMatchObject({ ending: 'errored', estimated: true })
    // Three content chunks arrived (the role chunk counts too: a delta is charged as at least a token).
    expect(settled?.cost?.tokens.output).toBeGreaterThanOrEqual(3)
    expect(settled?.cost?.tokens.output).toBeLessThanOrEqual(4)
  })

  it('reports a mid-stream error event as an upstream error and settles from the estimate', async () => {
    const { mock, post, events } = setup()
    mock.enqueue({ stream: { errorAfterChunks: 2 } })
    const response = await post('/chat/completions', chatBody({ stream: true }))
    expect(await response.text()).toContain('"error"')
    const settled = await keyguardResult(response)?.settled
    expect(settled?.estimated).toBe(true)
    const error = events.find((event) => event.type === 'upstream-error')
    expect(error?.type === 'upstream-error' && error.error.code).toBe('upstream.server_error')
  })

  it('flags the cost as estimated when usage never arrives', async () => {
    const { mock, post } = setup()
    mock.enqueue({ omitUsage: true })
    const response = await post('/chat/completions', chatBody())
    await response.json()
    const settled = await keyguardResult(response)?.settled
    expect(settled).toMatchObject({ ending: 'complete', estimated: true })
    expect(settled?.cost?.tokens.input).toBe(settled?.estimate?.inputTokens)
  })

  it('hands the settlement to waitUntil', async () => {
    const pending: Promise<unknown>[] = []
    const { post } = setup({ waitUntil: (promise) => pending.push(promise) })
    const response = await post('/chat/completions', chatBody())
    expect(pending).toHaveLength(1)
    await response.arrayBuffer()
    await expect(pending[0]).resolves.toMatchObject({ type: 'settle' })
  })

  it('opens a circuit for a key OpenAI refused, and closes it when a later probe succeeds', async () => {
    const { clock, mock, post, events } = setup()
    mock.enqueue(mockErrors.invalidKey())
    expect((await post('/chat/completions', chatBody())).status).toBe(401)
    const local = await post('/chat/completions', chatBody())
    expect(local.status).toBe(401)
    expect(local.headers.get('x-keyguard-circuit')).toBe('open')
    expect(local.headers.get('x-should-retry')).toBe('false')
    expect(mock.requests).toHaveLength(1)
    expect(events.filter((event) => event.type === 'circuit-open')).toHaveLength(1)

    clock.advance(30_000)
    const probe = await post('/chat/completions', chatBody())
    expect(probe.status).toBe(200)
    expect(mock.requests).toHaveLength(2)
    expect(events.filter((event) => event.type === 'circuit-closed')).toHaveLength(1)
    await probe.arrayBuffer()
    expect((await post('/chat/completions', chatBody())).status).toBe(200)
  })

  it('lists every configuration problem in one config.invalid error, without the key', () => {
    let error: KeyguardError | undefined
    try {
      createKeyguard({
        leaseMs: -1,
        upstream: { baseUrl: 'ftp://x' },
        limits: [{} as never],
      } as KeyguardOptions)
    } catch (caught) {
      if (isKeyguardError(caught)) error = caught
    }
    expect(error?.code).toBe('config.invalid')
    expect(error?.problems.map((problem) => problem.path)).toEqual(
      expect.arrayContaining(['leaseMs', 'upstream.baseUrl', 'limits[0]', 'key']),
    )

    let keyError: KeyguardError | undefined
    try {
      createKeyguard({ key: `Bearer ${canary}`, leaseMs: 0 })
    } catch (caught) {
      if (isKeyguardError(caught)) keyError = caught
    }
    expect(keyError?.code).toBe('config.invalid')
    expect(keyError?.problems.map((problem) => problem.path)).toEqual(
      expect.arrayContaining(['key', 'leaseMs']),
    )
    expect(JSON.stringify(keyError) + keyError?.message).not.toContain(canary.slice(8))
  })

  it('never lets the key out: not in an error, an event, a body, a log line or JSON', async () => {
    const { guard, mock, post, events, logs } = setup({
      limits: [spendLimit({ scope: 'global', limit: 1_000_000_000, period: 'day' })],
    })
    const outputs: unknown[] = [JSON.stringify(guard), String(guard)]
    const ok = await post('/chat/completions', chatBody({ stream: true }))
    outputs.push(await ok.text(), [...ok.headers], await keyguardResult(ok)?.settled)
    mock.enqueue({
      status: 401,
      body: {
        error: {
          type: 'invalid_request_error',
          code: 'invalid_api_key',
          message: `Incorrect API key provided: ${canary}. You can find your API key at https://platform.openai.com/account/api-keys.`,
        },
      },
    })
    const unauthorized = await post('/chat/completions', chatBody())
    expect(unauthorized.status).toBe(401)
    expect(unauthorized.headers.get('x-keyguard-error-code')).toBe('auth.invalid_key')
    expect(unauthorized.headers.get('x-should-retry')).toBe('false')
    outputs.push(await unauthorized.text(), [...unauthorized.headers], keyguardResult(unauthorized)?.error)

    const thrower = createKeyguard({ key: canary, upstream: { fetch: mock.fetch }, errors: 'throw' })
    mock.enqueue({
      status: 401,
      body: {
        error: {
          type: 'invalid_request_error',
          code: 'invalid_api_key',
          message: `Incorrect API key provided: ${canary}.`,
        },
      },
    })
    const thrown = await thrower
      .fetch(`${url}/chat/completions`, { method: 'POST', body: chatBody() })
      .catch((caught: unknown) => caught)
    outputs.push(thrown, (thrown as Error).message, (thrown as Error).stack)

    const offline = createKeyguard({
      key: canary,
      upstream: { fetch: () => Promise.reject(new TypeError(`fetch failed for ${canary}`)) },
    })
    const connection = await offline
      .fetch(`${url}/chat/completions`, { method: 'POST', body: chatBody() })
      .catch((caught: unknown) => caught)
    expect(isKeyguardError(connection) && connection.code).toBe('upstream.connection')
    outputs.push(connection, (connection as Error).message)

    outputs.push(events, logs)

    const text = JSON.stringify(outputs, (_key, value) =>
      value instanceof Error ? { ...value, message: value.message, stack: value.stack } : value,
    )
    expect(events.length).toBeGreaterThan(0)
    expect(text).not.toContain(canary)
    expect(text).not.toContain(canary.slice(8, 30))
  })
})
