// One Vercel AI SDK major driven through `guard.fetch` against the mock upstream, at the AI SDK's default
// settings (maxRetries 2, which retries every 408, 409, 429 and 5xx whatever x-should-retry says):
// generateText and streamText settled from usage, and refusals (a spent budget, a rate limit that
// resets in an hour) that reach the caller at once, sent once, with their keyguard code. Each ai-sdk-v*
// project passes in its own installed modules, so this file resolves nothing itself.
import assert from 'node:assert/strict'
import { performance } from 'node:perf_hooks'

/**
 * @param {{ ai: any, createOpenAI: any, core: any, testing: any, installed: string, major: number }} modules
 */
export async function aiSdkThroughGuard({ ai, createOpenAI, core, testing, installed, major }) {
  if (process.env.KEYGUARD_COMPAT_NODE) assert.equal(process.version, process.env.KEYGUARD_COMPAT_NODE)
  assert.equal(
    String(installed).split('.')[0],
    String(major),
    `ai ${installed} installed, expected v${major}`,
  )
  const { APICallError, generateText, streamText } = ai
  const code = (error) =>
    APICallError.isInstance(error) ? error.responseHeaders?.['x-keyguard-error-code'] : undefined

  const mock = testing.createMockOpenAI({ validKeys: [testing.exampleMockKey] })
  const through = (limits) => {
    const guard = core.createKeyguard({
      key: testing.exampleMockKey,
      upstream: { fetch: mock.fetch },
      limits,
    })
    const settles = []
    guard.on('settle', (event) => settles.push(event))
    const calls = []
    const scoped = guard.for({ tenant: 't1' })
    const openai = createOpenAI({
      apiKey: 'held-by-keyguard',
      fetch: (input, init) => {
        calls.push(String(input))
        return scoped.fetch(input, init)
      },
    })
    return { openai, settles, calls }
  }

  // Served: a completion and a stream, both settled from real usage.
  const served = through([core.spendLimit({ scope: 'tenant', limit: core.usd(1), period: 'month' })])
  const generated = await generateText({ model: served.openai.chat('gpt-4o-mini'), prompt: 'Say hello' })
  assert.ok(generated.text.length > 0, 'generateText returns text')
  // the baseline: a warm served completion (the first one also loads the tokenizer)
  const startedOk = performance.now()
  await generateText({ model: served.openai.chat('gpt-4o-mini'), prompt: 'Say hello' })
  const completionMs = performance.now() - startedOk
  assert.equal(mock.requests[0].headers.authorization, `Bearer ${testing.exampleMockKey}`)
  const streamed = streamText({ model: served.openai('gpt-4o-mini'), prompt: 'Say hello' })
  let text = ''
  for await (const part of streamed.textStream) text += part
  assert.ok(text.length > 0, 'streamText yields text')
  for (let i = 0; i < 100 && served.settles.length < 3; i++)
    await new Promise((resolve) => setTimeout(resolve, 10))
  assert.equal(served.settles.length, 3, 'every call settles')
  assert.ok(
    served.settles.every((event) => !event.estimated && event.costNanos > 0),
    'settled from real usage',
  )

  // A spent budget: generateText throws the 402 at once, sent once, never upstream.
  const upstreamBefore = mock.requests.length
  const broke = through([core.spendLimit({ scope: 'tenant', limit: 1, period: 'month' })])
  const startedRefusal = performance.now()
  const refused = await generateText({ model: broke.openai.chat('gpt-4o-mini'), prompt: 'Hi' }).then(
    () => undefined,
    (caught) => caught,
  )
  const refusalMs = performance.now() - startedRefusal
  assert.ok(APICallError.isInstance(refused), `an APICallError, got ${refused}`)
  assert.equal(refused.statusCode, 402)
  assert.equal(refused.isRetryable, false)
  assert.equal(code(refused), 'budget.hard_limit')
  assert.equal(refused.data?.error?.code, 'budget.hard_limit')
  assert.equal(broke.calls.length, 1, 'the refusal is not retried')

  // A rate limit that resets in an hour: a 403 with Retry-After, not a 429 the AI SDK would retry.
  const hourly = through([core.requestLimit({ scope: 'tenant', limit: 1, windowMs: 3_600_000 })])
  await generateText({ model: hourly.openai.chat('gpt-4o-mini'), prompt: 'Hi' })
  const limited = await generateText({ model: hourly.openai.chat('gpt-4o-mini'), prompt: 'Hi' }).then(
    () => undefined,
    (caught) => caught,
  )
  assert.equal(limited?.statusCode, 403, `a 403, got ${limited}`)
  assert.equal(code(limited), 'rate.requests')
  assert.equal(limited.responseHeaders['retry-after'], '3600')
  assert.equal(hourly.calls.length, 2, 'the rate refusal is not retried')

  // streamText never throws: the refusal reaches onError and the full stream, with its code.
  const brokeStream = through([core.spendLimit({ scope: 'tenant', limit: 1, period: 'month' })])
  const errors = []
  const startedStream = performance.now()
  const stream = streamText({
    model: brokeStream.openai('gpt-4o-mini'),
    prompt: 'Hi',
    onError: ({ error }) => {
      errors.push(error)
    },
  })
  const parts = []
  for await (const part of stream.fullStream) parts.push(part)
  const streamRefusalMs = performance.now() - startedStream
  assert.deepEqual(errors.map(code), ['budget.hard_limit'], 'onError gets the refusal')
  assert.equal(code(parts.find((part) => part.type === 'error')?.error), 'budget.hard_limit')
  assert.ok(!parts.some((part) => part.type === 'text-delta'), 'no text')
  assert.equal(brokeStream.calls.length, 1, 'the stream refusal is not retried')
  assert.equal(mock.requests.length, upstreamBefore + 1, 'no refusal reached the upstream')

  const ms = (value) => value.toFixed(1)
  return `ai ${installed}: generateText and streamText served and refused at default maxRetries; refusal ${ms(refusalMs)} ms, streamed refusal ${ms(streamRefusalMs)} ms, a warm served completion ${ms(completionMs)} ms`
}
