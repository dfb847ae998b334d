import { createOpenAI } from '@ai-sdk/openai'
import { createMockOpenAI, fakeClock } from '@keyguard/testing'
import { streamText } from 'ai'
import OpenAI from 'openai'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { costOfUsage } from '../estimate/cost-of-usage'
import { concurrencyLimit } from '../limits/concurrency-limit'
import { memoryStore } from '../limits/memory-store'
import { spendLimit } from '../limits/spend-limit'
import type { KeyguardStore } from '../limits/store'
import { cancelCountingFetch } from './__fixtures__/cancel-counting-fetch'
import { createKeyguard } from './create-keyguard'
import type { SettleEvent } from './keyguard-events'

const canary = `sk-proj-${'C4n4ryK3y'.repeat(5)}T3stW8q8A`
const url = 'https://api.openai.com/v1'
const numbers = ['one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten']
const reply = numbers.join(' ')
const chat = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'Count to ten' }] }

/**
 * A guard over the mock, with a concurrency-1 tenant and a spend limit; records settles and whether
 * upstream bodies were cancelled. `makeStore` picks the store (the Redis tests pass theirs).
 */
function bodiesSetup(makeStore: (now: () => number) => KeyguardStore = (now) => memoryStore({ now })) {
  const clock = fakeClock('2026-11-28T12:00:00Z')
  const mock = createMockOpenAI({ reply })
  const settles: SettleEvent[] = []
  const waiters: ((event: SettleEvent) => void)[] = []
  // Records whether the guard cancels the upstream body.
  const upstream = cancelCountingFetch(mock.fetch)
  const guard = createKeyguard({
    key: canary,
    // Costs here are at the standard tier; an unnamed tier would be held (and, unread, settled) at priority.
    estimate: { defaultServiceTier: 'default' },
    upstream: { fetch: upstream.fetch },
    now: clock.now,
    store: makeStore(clock.now),
    limits: [
      concurrencyLimit({ scope: 'tenant', limit: 1 }),
      spendLimit({ scope: 'tenant', limit: 1_000_000_000, period: 'day' }),
    ],
    logger: { warn: () => {}, error: () => {} },
  }).for({ tenant: 't1' })
  guard.on('settle', (event) => {
    settles.push(event)
    waiters.shift()?.(event)
  })
  /** The next settle event (or the last one, if it already came). */
  const settled = (count: number) =>
    settles.length >= count
      ? Promise.resolve(settles[count - 1] as SettleEvent)
      : new Promise<SettleEvent>((resolve) => waiters.push(resolve))
  const openai = new OpenAI({ apiKey: 'unused', fetch: guard.fetch, maxRetries: 0 })
  const post = (body: Record<string, unknown>) =>
    guard.fetch(`${url}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
  return { clock, mock, guard, openai, post, settles, settled, cancelled: upstream.cancelled }
}

/** What the prompt alone costs, and the prompt plus `output` tokens, at the mock's count. */
function promptCost(inputTokens: number, output = 0): number {
  return costOfUsage('gpt-4o-mini', {
    prompt_tokens: inputTokens,
    completion_tokens: output,
    total_tokens: inputTokens + output,
  }).totalNanos
}

describe('createKeyguard unread bodies', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('ends the hold and the slot of an openai-node stream never iterated within 60 s, cancelling upstream', async () => {
    const { openai, settled, cancelled } = bodiesSetup()
    await openai.chat.completions.create({ ...chat, stream: true })
    // A concurrency-1 tenant: the slot is taken while the stream lives.
    const busy = await openai.chat.completions.create(chat).catch((error: unknown) => error)
    expect(busy).toBeInstanceOf(OpenAI.RateLimitError)
    await vi.advanceTimersByTimeAsync(59_999)
    expect(cancelled()).toBe(0)
    await vi.advanceTimersByTimeAsync(1)
    const event = await settled(1)
    expect(event).toMatchObject({ ending: 'abandoned', estimated: true })
    // Charged at what was counted: nothing was read, so the prompt.
    expect(event.costNanos).toBe(promptCost(event.estimate?.inputTokens as number))
    expect(cancelled()).toBe(1)
    expect(JSON.stringify(event)).not.toContain(canary)
    const next = await openai.chat.completions.create(chat)
    expect(next.choices[0]?.message.content).toBe(reply)
  })

  it('charges an abandoned stream what passed before it was left, never less than the prompt', async () => {
    const { openai, settled } = bodiesSetup()
    const stream = await openai.chat.completions.create({ ...chat, stream: true })
    const iterator = stream[Symbol.asyncIterator]()
    await iterator.next() // the role chunk
    await iterator.next() // 'one'
    await iterator.next() // ' two'
    await vi.advanceTimersByTimeAsync(60_000)
    const event = await settled(1)
    expect(event.ending).toBe('abandoned')
    const input = event.estimate?.inputTokens as number
    expect(event.costNanos).toBeGreaterThanOrEqual(promptCost(input, 2))
    expect(event.costNanos).toBeLessThan(event.estimate?.maxCostNanos as number)
  })

  it('does not cut a stream read slowly but steadily', async () => {
    const { openai, settled } = bodiesSetup()
    const stream = await openai.chat.completions.create({ ...chat, stream: true })
    let text = ''
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? ''
      await vi.advanceTimersByTimeAsync(50_000)
    }
    expect(text).toBe(reply)
    expect(await settled(1)).toMatchObject({ ending: 'complete', estimated: false })
  })

  it('settles a JSON body nobody reads at its usage at once, freeing the slot', async () => {
    const { post, settled, openai } = bodiesSetup()
    const response = await post(chat)
    expect(response.status).toBe(200)
    const event = await settled(1)
    expect(event).toMatchObject({ ending: 'complete', estimated: false })
    expect(event.cost?.tokens.output).toBe(numbers.length)
    const next = await openai.chat.completions.create(chat)
    expect(next.choices[0]?.message.content).toBe(reply)
    // The caller can still read the body it was handed.
    expect((await response.json()).choices[0].message.content).toBe(reply)
  })

  it('settles a JSON body cancelled by its reader at the usage upstream reported', async () => {
    const { post, settled } = bodiesSetup()
    const response = await post(chat)
    await response.body?.cancel()
    const event = await settled(1)
    expect(event).toMatchObject({ ending: 'complete', estimated: false })
    expect(event.costNanos).toBe(promptCost(event.cost?.tokens.input as number, numbers.length))
  })
})

describe('createKeyguard drop-in streams', () => {
  it('shows an openai-node stream exactly as without keyguard when the caller did not ask for usage', async () => {
    const { openai, settled, mock } = bodiesSetup()
    const plain = new OpenAI({ apiKey: 'unused', fetch: createMockOpenAI({ reply }).fetch, maxRetries: 0 })
    const read = async (client: OpenAI) => {
      const chunks: unknown[] = []
      const stream = await client.chat.completions.create({ ...chat, stream: true })
      // The code every OpenAI example writes: throws on a chunk without choices.
      for await (const chunk of stream)
        chunks.push((chunk.choices[0] as (typeof chunk.choices)[number]).delta)
      return chunks
    }
    expect(await read(openai)).toEqual(await read(plain))
    const event = await settled(1)
    expect(event).toMatchObject({ ending: 'complete', estimated: false })
    expect(event.cost?.tokens.output).toBe(numbers.length)
    // keyguard still asked upstream for the usage it settles from.
    expect(mock.requests[0]?.body).toMatchObject({ stream_options: { include_usage: true } })
  })

  it('sends the same bytes as upstream without keyguard, [DONE] included', async () => {
    const { post } = bodiesSetup()
    const direct = await createMockOpenAI({ reply }).fetch(`${url}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer unused' },
      body: JSON.stringify({ ...chat, stream: true }),
    })
    const guarded = await post({ ...chat, stream: true })
    const text = await guarded.text()
    expect(text).toBe(await direct.text())
    expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true)
  })

  it('passes a responses stream as it came: its usage rides in response.completed, nothing to strip', async () => {
    const { guard, settled } = bodiesSetup()
    const body = JSON.stringify({ model: 'gpt-4o-mini', input: 'Count to ten', stream: true })
    const init = { method: 'POST', headers: { 'content-type': 'application/json' }, body }
    const direct = await createMockOpenAI({ reply }).fetch(`${url}/responses`, {
      ...init,
      headers: { ...init.headers, authorization: 'Bearer unused' },
    })
    const guarded = await guard.fetch(`${url}/responses`, init)
    expect(await guarded.text()).toBe(await direct.text())
    expect(await settled(1)).toMatchObject({ ending: 'complete', estimated: false })
  })

  it('keeps the usage chunk for a caller that asked for it', async () => {
    const { openai } = bodiesSetup()
    const stream = await openai.chat.completions.create({
      ...chat,
      stream: true,
      stream_options: { include_usage: true },
    })
    let usage: unknown
    for await (const chunk of stream) if (chunk.usage) usage = chunk.usage
    expect(usage).toMatchObject({ completion_tokens: numbers.length })
  })

  it('leaves the AI SDK its usage (it asks for include_usage itself)', async () => {
    const { guard, settled } = bodiesSetup()
    const provider = createOpenAI({ apiKey: 'unused', fetch: guard.fetch })
    const result = streamText({ model: provider.chat('gpt-4o-mini'), prompt: 'Count to ten' })
    expect(await result.text).toBe(reply)
    expect((await result.usage).outputTokens).toBe(numbers.length)
    expect(await settled(1)).toMatchObject({ ending: 'complete', estimated: false })
  })
})
