import { createMockOpenAI, fakeClock } from '@keyguard/testing'
import OpenAI from 'openai'
import { describe, expect, it } from 'vitest'
import type { LimitPolicy } from '../limits/limit-policy'
import { memoryStore } from '../limits/memory-store'
import { requestLimit } from '../limits/request-limit'
import { spendLimit } from '../limits/spend-limit'
import { createKeyguard } from './create-keyguard'
import type { SettleEvent } from './keyguard-events'

const canary = `sk-proj-${'C4n4ryK3y'.repeat(5)}T3stW8q8A`

function setup() {
  const clock = fakeClock('2026-11-28T12:00:00Z')
  const mock = createMockOpenAI()
  const guard = createKeyguard({
    key: canary,
    upstream: { fetch: mock.fetch },
    now: clock.now,
    store: memoryStore({ now: clock.now }),
    limits: [spendLimit({ scope: 'tenant', limit: 1_000_000_000, period: 'month' })],
    scope: { tenant: 't1' },
  })
  const settles: SettleEvent[] = []
  guard.on('settle', (event) => settles.push(event))
  // The client never holds the key: the guard sets it on every attempt.
  const openai = new OpenAI({ apiKey: 'unused', fetch: guard.fetch, maxRetries: 2 })
  return { mock, guard, settles, openai }
}

const settledOnce = async (guard: ReturnType<typeof setup>['guard']) => {
  const [state] = await guard.usage()
  return state
}

describe('createKeyguard with openai-node', () => {
  it('completes a chat request and settles its cost', async () => {
    const { openai, mock, settles, guard } = setup()
    const completion = await openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Say hello' }],
    })
    expect(completion.usage?.total_tokens).toBeGreaterThan(0)
    expect(mock.requests[0]?.headers.authorization).toBe(`Bearer ${canary}`)
    await expect.poll(() => settles.length).toBe(1)
    expect(settles[0]).toMatchObject({ estimated: false, scope: { tenant: 't1' } })
    expect(await settledOnce(guard)).toMatchObject({ used: settles[0]?.costNanos, held: 0 })
  })

  it('streams a chat completion with usage, and settles when the stream ends', async () => {
    const { openai, settles } = setup()
    const stream = await openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Say hello' }],
      stream: true,
    })
    let text = ''
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? ''
    expect(text.length).toBeGreaterThan(0)
    await expect.poll(() => settles.length).toBe(1)
    expect(settles[0]).toMatchObject({ ending: 'complete', estimated: false })
  })

  it('settles what a stream used when the app stops reading it early', async () => {
    const { openai, settles } = setup()
    const stream = await openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Count' }],
      stream: true,
      max_tokens: 500,
    })
    let chunks = 0
    for await (const _chunk of stream) if (++chunks === 3) break
    await expect.poll(() => settles.length).toBe(1)
    expect(settles[0]).toMatchObject({ ending: 'cancelled', estimated: true })
    expect(settles[0]?.costNanos).toBeLessThan(settles[0]?.estimate?.maxCostNanos as number)
  })

  it('creates a response and streams one through the responses API', async () => {
    const { openai, settles } = setup()
    const response = await openai.responses.create({ model: 'gpt-4o-mini', input: 'Hi' })
    expect(response.usage?.input_tokens).toBeGreaterThan(0)
    const stream = await openai.responses.create({ model: 'gpt-4o-mini', input: 'Hi', stream: true })
    const types: string[] = []
    for await (const event of stream) types.push(event.type)
    expect(types).toContain('response.completed')
    await expect.poll(() => settles.length).toBe(2)
    expect(settles.every((event) => !event.estimated && event.costNanos > 0)).toBe(true)
  })

  it('embeds text', async () => {
    const { openai, settles } = setup()
    const result = await openai.embeddings.create({ model: 'text-embedding-3-small', input: 'hello' })
    expect(result.data[0]?.embedding.length).toBeGreaterThan(0)
    await expect.poll(() => settles.length).toBe(1)
  })

  it('surfaces an invalid key as AuthenticationError, sent once and without the key', async () => {
    const { openai, mock } = setup()
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
    const error = await openai.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] })
      .catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError)
    expect(String((error as Error).message)).not.toContain(canary)
    expect(mock.requests).toHaveLength(1)
  })

  it('does not retry insufficient_quota', async () => {
    const { openai, mock } = setup()
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
    const quota = await openai.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] })
      .catch((caught: unknown) => caught)
    expect(quota).toBeInstanceOf(OpenAI.RateLimitError)
    expect((quota as InstanceType<typeof OpenAI.RateLimitError>).code).toBe('insufficient_quota')
    expect(mock.requests).toHaveLength(1)
  })

  it('retries an upstream rate limit and then raises RateLimitError', async () => {
    const { openai, mock } = setup()
    const limited = {
      status: 429,
      body: { error: { type: 'requests', code: 'rate_limit_exceeded', message: 'Rate limit reached' } },
      headers: { 'retry-after-ms': '1' },
    }
    mock.enqueue(limited, limited, limited)
    const rate = await openai.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] })
      .catch((caught: unknown) => caught)
    expect(rate).toBeInstanceOf(OpenAI.RateLimitError)
    expect(mock.requests).toHaveLength(3)
  })

  // openai-node's default maxRetries (2): x-should-retry: false is what stops it, whatever the status
  const refusedOnce = async (limits: LimitPolicy<'global'>[], warmUp = 0) => {
    const mock = createMockOpenAI()
    const guard = createKeyguard({ key: canary, upstream: { fetch: mock.fetch }, limits })
    let calls = 0
    const openai = new OpenAI({
      apiKey: 'unused',
      fetch: (input, init) => {
        calls++
        return guard.fetch(input, init)
      },
    })
    const chat = () =>
      openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] })
    for (let i = 0; i < warmUp; i++) await chat()
    const error = await chat().catch((caught: unknown) => caught)
    return { error, calls: calls - warmUp, upstream: mock.requests.length - warmUp }
  }

  it('surfaces a local hard limit as a 402 APIError with the keyguard code, without retrying', async () => {
    const { error, calls, upstream } = await refusedOnce([
      spendLimit({ scope: 'global', limit: 1, period: 'month' }),
    ])
    expect(error).toBeInstanceOf(OpenAI.APIError)
    expect(error).toMatchObject({ status: 402, code: 'budget.hard_limit' })
    expect(calls).toBe(1)
    expect(upstream).toBe(0)
  })

  it('surfaces a rate limit that resets in an hour as a 403 with the keyguard code, without retrying', async () => {
    const { error, calls } = await refusedOnce(
      [requestLimit({ scope: 'global', limit: 1, windowMs: 3_600_000 })],
      1,
    )
    expect(error).toBeInstanceOf(OpenAI.PermissionDeniedError)
    expect(error).toMatchObject({ status: 403, code: 'rate.requests', type: 'requests' })
    expect(calls).toBe(1)
  })
})
