import { createOpenAI } from '@ai-sdk/openai'
import { createMockOpenAI, fakeClock } from '@keyguard/testing'
import { APICallError, generateText, streamText } from 'ai'
import { describe, expect, it } from 'vitest'
import type { LimitPolicy } from '../limits/limit-policy'
import { memoryStore } from '../limits/memory-store'
import { requestLimit } from '../limits/request-limit'
import { spendLimit } from '../limits/spend-limit'
import { createKeyguard } from './create-keyguard'
import type { SettleEvent } from './keyguard-events'

const canary = `sk-proj-${'C4n4ryK3y'.repeat(5)}T3stW8q8A`

// Every test here runs at the AI SDK's default settings (maxRetries 2): what a user who never heard of
// keyguard's retry headers gets.
function setup(
  limits: LimitPolicy<'tenant'>[] = [spendLimit({ scope: 'tenant', limit: 1_000_000_000, period: 'month' })],
) {
  const clock = fakeClock('2026-11-28T12:00:00Z')
  const mock = createMockOpenAI()
  const guard = createKeyguard({
    key: canary,
    upstream: { fetch: mock.fetch },
    now: clock.now,
    store: memoryStore({ now: clock.now }),
    limits,
    scope: { tenant: 't1' },
  })
  const settles: SettleEvent[] = []
  guard.on('settle', (event) => settles.push(event))
  const calls: string[] = []
  const openai = createOpenAI({
    apiKey: 'unused',
    fetch: (input, init) => {
      calls.push(String(input))
      return guard.fetch(input, init)
    },
  })
  return { mock, settles, calls, openai }
}

const broke = () => setup([spendLimit({ scope: 'tenant', limit: 1, period: 'month' })])
const oncePerHour = () => setup([requestLimit({ scope: 'tenant', limit: 1, windowMs: 3_600_000 })])

const keyguardCode = (error: unknown) =>
  APICallError.isInstance(error) ? error.responseHeaders?.['x-keyguard-error-code'] : undefined

describe('createKeyguard with the Vercel AI SDK', () => {
  it('generates text through the guarded fetch', async () => {
    const { settles, mock, openai } = setup()
    const result = await generateText({ model: openai.chat('gpt-4o-mini'), prompt: 'Say hello' })
    expect(result.text.length).toBeGreaterThan(0)
    expect(mock.requests[0]?.headers.authorization).toBe(`Bearer ${canary}`)
    await expect.poll(() => settles.length).toBe(1)
  })

  it('streams text through the guarded fetch and settles from the usage chunk', async () => {
    const { settles, openai } = setup()
    const result = streamText({ model: openai('gpt-4o-mini'), prompt: 'Say hello' })
    let text = ''
    for await (const part of result.textStream) text += part
    expect(text.length).toBeGreaterThan(0)
    await expect.poll(() => settles.length).toBe(1)
    expect(settles[0]).toMatchObject({ estimated: false })
  })

  it('throws a hard-limit refusal from generateText at once, as a 402 APICallError with the keyguard code', async () => {
    const { calls, mock, openai } = broke()
    const error = await generateText({ model: openai.chat('gpt-4o-mini'), prompt: 'Hi' }).catch(
      (caught: unknown) => caught,
    )
    expect(APICallError.isInstance(error), String(error)).toBe(true)
    expect(error).toMatchObject({ statusCode: 402, isRetryable: false })
    expect(keyguardCode(error)).toBe('budget.hard_limit')
    expect((error as APICallError).data).toMatchObject({ error: { code: 'budget.hard_limit' } })
    expect(calls).toHaveLength(1)
    expect(mock.requests).toHaveLength(0)
  })

  it('throws a rate limit that resets in an hour at once, as a 403 with Retry-After', async () => {
    const { calls, openai } = oncePerHour()
    await generateText({ model: openai.chat('gpt-4o-mini'), prompt: 'Hi' })
    const error = await generateText({ model: openai.chat('gpt-4o-mini'), prompt: 'Hi' }).catch(
      (caught: unknown) => caught,
    )
    expect(error).toMatchObject({ statusCode: 403, isRetryable: false })
    expect(keyguardCode(error)).toBe('rate.requests')
    expect((error as APICallError).responseHeaders?.['retry-after']).toBe('3600')
    expect(calls).toHaveLength(2)
  })

  it('ends a refused streamText at once: the error reaches onError and the full stream, with its code', async () => {
    const { calls, openai } = broke()
    const errors: unknown[] = []
    const result = streamText({
      model: openai('gpt-4o-mini'),
      prompt: 'Hi',
      onError: ({ error }) => {
        errors.push(error)
      },
    })
    const parts: { type: string; error?: unknown }[] = []
    for await (const part of result.fullStream) parts.push(part)
    const streamed = parts.find((part) => part.type === 'error')?.error
    expect(keyguardCode(streamed)).toBe('budget.hard_limit')
    expect(errors.map(keyguardCode)).toEqual(['budget.hard_limit'])
    // the promised text holds no cause: onError and the full stream are where the code is
    await expect(result.text).rejects.toThrow('No output generated')
    expect(calls).toHaveLength(1)
  })
})
