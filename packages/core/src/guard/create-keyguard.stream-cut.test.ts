import { createOpenAI } from '@ai-sdk/openai'
import { createMockOpenAI, fakeClock } from '@keyguard/testing'
import { streamText } from 'ai'
import OpenAI from 'openai'
import { describe, expect, it } from 'vitest'
import { byteUpperBoundCounter } from '../estimate/count-tokens'
import { memoryStore } from '../limits/memory-store'
import { spendLimit } from '../limits/spend-limit'
import { cancelCountingFetch } from './__fixtures__/cancel-counting-fetch'
import { createKeyguard } from './create-keyguard'
import type { KeyguardEvent, SettleEvent, StreamCutEvent } from './keyguard-events'
import type { KeyguardOptions } from './keyguard-options'
import { keyguardResult } from './keyguard-result'

// A well-formed project key that exists nowhere else: if it shows up in any output, it leaked.
const canary = `sk-proj-${'C4n4ryK3y'.repeat(5)}T3stW8q8A`
const url = 'https://api.openai.com/v1'
// Thirty words of one token each (o200k_base), one per mock delta.
const numbers = ['one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten']
const longReply = [...numbers, ...numbers, ...numbers].join(' ')
const bound = 8

/** A guard whose requests that name no output bound are held for `bound` tokens, kept by `enforce`. */
function setup({
  enforce = 'stream-cut',
  ...options
}: Partial<KeyguardOptions> & { enforce?: 'none' | 'forward' | 'stream-cut' } = {}) {
  const clock = fakeClock('2026-11-28T12:00:00Z')
  const mock = createMockOpenAI({ reply: longReply })
  const events: KeyguardEvent[] = []
  const logs: unknown[] = []
  // Records whether the guard cancels the upstream body.
  const upstream = cancelCountingFetch(mock.fetch)
  const guard = createKeyguard({
    key: canary,
    upstream: { fetch: upstream.fetch },
    now: clock.now,
    store: memoryStore({ now: clock.now }),
    limits: [spendLimit({ scope: 'global', limit: 1_000_000_000, period: 'day' })],
    output: { default: { maxTokens: bound, enforce } },
    logger: { warn: (...args) => logs.push(args), error: (...args) => logs.push(args) },
    ...options,
  })
  for (const type of ['settle', 'stream-cut', 'upstream-error', 'denied'] as const)
    guard.on(type, (event) => events.push(event))
  const post = (path: string, body: Record<string, unknown>) =>
    guard.fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer unused' },
      body: JSON.stringify(body),
    })
  const chat = (extra: Record<string, unknown> = {}) =>
    post('/chat/completions', {
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Count to thirty' }],
      stream: true,
      ...extra,
    })
  const openai = new OpenAI({ apiKey: 'unused', fetch: guard.fetch, maxRetries: 0 })
  return { mock, guard, events, logs, post, chat, openai, cancelled: upstream.cancelled }
}

/** The assistant text of a chat SSE body. */
function chatText(sse: string): string {
  let text = ''
  for (const line of sse.split('\n')) {
    if (!line.startsWith('data: {')) continue
    const chunk = JSON.parse(line.slice(6)) as { choices?: { delta?: { content?: string } }[] }
    text += chunk.choices?.[0]?.delta?.content ?? ''
  }
  return text
}

const firstWords = (count: number) => longReply.split(' ').slice(0, count).join(' ')

describe("createKeyguard with output.default.enforce: 'stream-cut'", () => {
  it('cuts a chat stream at its reserved output bound with a typed error event, and settles what was used', async () => {
    const { chat, guard, events, cancelled } = setup()
    const response = await chat()
    const text = await response.text()

    expect(chatText(text)).toBe(firstWords(bound))
    const errorLine = text.split('\n').find((line) => line.includes('"error"'))
    expect(JSON.parse((errorLine as string).slice(6))).toEqual({
      error: {
        message: expect.stringContaining('cut short'),
        type: expect.any(String),
        code: 'budget.hard_limit',
        param: null,
      },
    })
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true)
    expect(text).not.toContain('"usage":{')
    expect(cancelled()).toBe(1)

    const settled = (await keyguardResult(response)?.settled) as SettleEvent
    expect(settled).toMatchObject({ ending: 'cut', estimated: true })
    // The prompt, and the output counted up to the bound: never more than the hold.
    expect(settled.cost?.tokens).toMatchObject({ input: settled.estimate?.inputTokens, output: bound })
    expect(settled.costNanos).toBeGreaterThan(0)
    expect(settled.costNanos).toBeLessThanOrEqual(settled.estimate?.maxCostNanos as number)
    expect(settled.states[0]).toMatchObject({ held: 0, used: settled.costNanos })
    expect(await guard.usage()).toEqual([expect.objectContaining({ held: 0, used: settled.costNanos })])

    const cut = events.find((event): event is StreamCutEvent => event.type === 'stream-cut')
    expect(cut).toMatchObject({
      reservationId: settled.reservationId,
      model: 'gpt-4o-mini',
      maxOutputTokens: bound,
      outputTokens: bound + 1,
    })
    expect(cut?.error.code).toBe('budget.hard_limit')
    expect(events.map((event) => event.type)).toEqual(['stream-cut', 'settle'])
  })

  it('counts one token per text-carrying delta when the counter is not exact', async () => {
    // A byte bound would count ' three' as 6 tokens and cut English at a fraction of the bound.
    const { chat } = setup({ estimate: { counter: byteUpperBoundCounter } })
    const response = await chat()
    expect(chatText(await response.text())).toBe(firstWords(bound))
    expect(await keyguardResult(response)?.settled).toMatchObject({ ending: 'cut' })
  })

  it('cuts a responses stream with an error event', async () => {
    const { post, events } = setup()
    const response = await post('/responses', { model: 'gpt-4o-mini', input: 'Count', stream: true })
    const text = await response.text()
    expect(text).toContain('event: error\ndata: {"type":"error","code":"budget.hard_limit"')
    expect(text).not.toContain('response.completed')
    expect(text.match(/response\.output_text\.delta/g)).toHaveLength(2 * bound)
    const settled = await keyguardResult(response)?.settled
    expect(settled).toMatchObject({ ending: 'cut', estimated: true, states: [{ held: 0 }] })
    expect(events.some((event) => event.type === 'stream-cut')).toBe(true)
  })

  it('does not cut a stream that fits its bound', async () => {
    const { mock, chat, events, cancelled } = setup()
    mock.enqueue({ reply: firstWords(bound) })
    const response = await chat()
    const text = await response.text()
    expect(chatText(text)).toBe(firstWords(bound))
    expect(text).not.toContain('"error"')
    const settled = await keyguardResult(response)?.settled
    expect(settled).toMatchObject({ ending: 'complete', estimated: false })
    expect(settled?.cost?.tokens.output).toBe(bound)
    expect(events.some((event) => event.type === 'stream-cut')).toBe(false)
    expect(cancelled()).toBe(0)
  })

  it('leaves a request that names its own bound to OpenAI', async () => {
    const { chat, events } = setup()
    const response = await chat({ max_tokens: 100 })
    expect(chatText(await response.text())).toBe(longReply)
    expect(await keyguardResult(response)?.settled).toMatchObject({ ending: 'complete', estimated: false })
    expect(events.some((event) => event.type === 'stream-cut')).toBe(false)
  })

  it('lets the model write past the hold with enforce: "none" (what the cut prevents)', async () => {
    const { chat } = setup({ enforce: 'none' })
    const response = await chat()
    expect(chatText(await response.text())).toBe(longReply)
    const settled = await keyguardResult(response)?.settled
    expect(settled?.costNanos).toBeGreaterThan(settled?.estimate?.maxCostNanos as number)
  })

  it('raises the cut as an APIError in openai-node, after the text that fit', async () => {
    const { openai, events } = setup()
    const stream = await openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Count to thirty' }],
      stream: true,
    })
    let text = ''
    let caught: unknown
    try {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? ''
    } catch (error) {
      caught = error
    }
    expect(text).toBe(firstWords(bound))
    expect(caught).toBeInstanceOf(OpenAI.APIError)
    expect(caught).toMatchObject({ code: 'budget.hard_limit', status: undefined })
    await expect
      .poll(() => events.find((event) => event.type === 'settle'))
      .toMatchObject({ ending: 'cut', estimated: true })

    const responses = await openai.responses.create({ model: 'gpt-4o-mini', input: 'Count', stream: true })
    const failure = await (async () => {
      for await (const _event of responses) {
      }
    })().catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(OpenAI.APIError)
    expect(failure).toMatchObject({ code: 'budget.hard_limit' })
  })

  it('reaches the Vercel AI SDK as an error part after the text that fit', async () => {
    const { guard, events } = setup()
    const provider = createOpenAI({ apiKey: 'unused', fetch: guard.fetch })
    const parts: { type: string; text?: string; error?: unknown }[] = []
    const result = streamText({
      model: provider.chat('gpt-4o-mini'),
      prompt: 'Count to thirty',
      maxRetries: 0,
      onError: () => {},
    })
    for await (const part of result.fullStream) parts.push(part as (typeof parts)[number])
    const text = parts
      .filter((part) => part.type === 'text-delta')
      .map((part) => part.text)
      .join('')
    expect(text).toBe(firstWords(bound))
    expect(JSON.stringify(parts.find((part) => part.type === 'error'))).toContain('cut short')
    await expect.poll(() => events.find((event) => event.type === 'settle')).toMatchObject({ ending: 'cut' })
  })

  it('never lets the key out of a cut', async () => {
    const { chat, events, logs, post } = setup()
    const outputs: unknown[] = []
    const response = await chat()
    outputs.push(await response.text(), [...response.headers], await keyguardResult(response)?.settled)
    const responses = await post('/responses', { model: 'gpt-4o-mini', input: 'Count', stream: true })
    outputs.push(await responses.text(), await keyguardResult(responses)?.settled, events, logs)
    const text = JSON.stringify(outputs, (_key, value) =>
      value instanceof Error ? { ...value, message: value.message, stack: value.stack } : value,
    )
    expect(events.some((event) => event.type === 'stream-cut')).toBe(true)
    expect(text).not.toContain(canary)
    expect(text).not.toContain(canary.slice(8, 30))
  })
})

describe("createKeyguard with output.default.enforce: 'forward'", () => {
  it('sends the default bound upstream when a chat or responses request names none', async () => {
    const { mock, post } = setup({ enforce: 'forward' })
    const json = await post('/chat/completions', {
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Count' }],
    })
    const body = (await json.json()) as { choices: { message: { content: string } }[] }
    expect(body.choices[0]?.message.content).toBe(firstWords(bound))
    expect(mock.requests[0]?.body).toMatchObject({ max_completion_tokens: bound })
    const settled = await keyguardResult(json)?.settled
    expect(settled?.cost?.tokens.output).toBe(bound)

    await (await post('/responses', { model: 'gpt-4o-mini', input: 'Count', stream: true })).text()
    expect(mock.requests[1]?.body).toMatchObject({ max_output_tokens: bound })
  })

  it('leaves a request that names its own bound as it is', async () => {
    const { mock, chat } = setup({ enforce: 'forward' })
    await (await chat({ max_tokens: 100 })).text()
    expect(mock.requests[0]?.body).toMatchObject({ max_tokens: 100 })
    expect(mock.requests[0]?.body).not.toHaveProperty('max_completion_tokens')
  })

  it('makes the cut unnecessary: the stream stops at the bound and settles from usage', async () => {
    const { chat, events } = setup({ enforce: 'forward' })
    const response = await chat()
    const text = await response.text()
    expect(chatText(text)).toBe(firstWords(bound))
    expect(text).toContain('"finish_reason":"length"')
    expect(await keyguardResult(response)?.settled).toMatchObject({ ending: 'complete', estimated: false })
    expect(events.some((event) => event.type === 'stream-cut')).toBe(false)
  })

  it('cannot be asked to enforce a bound it was not given: enforce without maxTokens is config.invalid', () => {
    const build = () =>
      createKeyguard({
        key: canary,
        // @ts-expect-error maxTokens is required: there is no bound to forward without it
        output: { default: { enforce: 'forward' } },
      })
    expect(build).toThrow(
      expect.objectContaining({
        code: 'config.invalid',
        problems: [expect.objectContaining({ path: 'output.default.maxTokens' })],
      }),
    )
  })
})
