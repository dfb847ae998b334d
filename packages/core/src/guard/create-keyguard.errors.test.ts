import { createMockOpenAI, fakeClock, mockErrors } from '@keyguard/testing'
import OpenAI from 'openai'
import { describe, expect, it } from 'vitest'
import { canaryKey } from '../errors/__fixtures__/openai-error-bodies'
import { concurrencyLimit } from '../limits/concurrency-limit'
import type { LimitPolicy } from '../limits/limit-policy'
import { memoryStore } from '../limits/memory-store'
import { spendLimit } from '../limits/spend-limit'
import { createKeyguard } from './create-keyguard'
import type { KeyguardEvent } from './keyguard-events'

const messages = [{ role: 'user' as const, content: 'Say hello' }]

function setup(limits: LimitPolicy[] = []) {
  const clock = fakeClock('2026-11-28T12:00:00Z')
  const mock = createMockOpenAI()
  const guard = createKeyguard({
    key: canaryKey,
    upstream: { fetch: mock.fetch },
    now: clock.now,
    store: memoryStore({ now: clock.now }),
    limits,
  })
  const events: KeyguardEvent[] = []
  for (const type of ['denied', 'upstream-error', 'circuit-open', 'circuit-closed'] as const)
    guard.on(type, (event) => events.push(event))
  // openai-node as an app uses it, retries on: what it retries shows in mock.requests and events
  const client = (tenant: string, maxRetries = 2) =>
    new OpenAI({ apiKey: 'unused', fetch: guard.for({ tenant }).fetch, maxRetries })
  return { clock, mock, guard, events, client }
}

const body = { model: 'gpt-4o-mini', messages, max_tokens: 50 }

// A tenant budget of one and a half holds of `body`: one call fits, a second only once the first settles low.
async function setupBudget() {
  const estimate = await createKeyguard({ key: canaryKey }).estimate({
    endpoint: '/v1/chat/completions',
    body,
  })
  const limit = Math.floor((estimate?.maxCostNanos ?? 0) * 1.5)
  return { estimate, ...setup([spendLimit({ scope: 'tenant', limit, period: 'month' })]) }
}

const headerOf = (error: unknown, name: string) =>
  error instanceof OpenAI.APIError ? error.headers?.get(name) : undefined
const caught = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  )

describe('createKeyguard', () => {
  it("keeps every other tenant's calls going when OpenAI refuses one call for a missing scope", async () => {
    const { mock, events, client } = setup()
    mock.enqueue(
      { ...mockErrors.missingScopes(['api.model.images.request']), path: '/v1/images/generations' },
      { ...mockErrors.missingScopes(['api.management.read']), path: '/v1/organization/projects' },
    )
    const restricted = client('t1')
    const images = await caught(restricted.images.generate({ model: 'gpt-image-1', prompt: 'a cat' }))
    expect(images).toBeInstanceOf(OpenAI.AuthenticationError)
    expect(headerOf(images, 'x-keyguard-error-code')).toBe('auth.permission_denied')
    const admin = await caught(restricted.get('/organization/projects'))
    expect(admin).toMatchObject({ status: 401 })

    const chat = await client('t2').chat.completions.create({ model: 'gpt-4o-mini', messages })
    expect(chat.choices[0]?.message.content).toBeTruthy()
    // each refusal was sent once (not retried) and opened nothing
    expect(mock.requests.map((request) => request.path)).toEqual([
      '/v1/images/generations',
      '/v1/organization/projects',
      '/v1/chat/completions',
    ])
    expect(events.filter((event) => event.type === 'circuit-open')).toEqual([])
  })

  it.each([
    ['an invalid key', mockErrors.invalidKey(), OpenAI.AuthenticationError, 401],
    ['a deactivated account', mockErrors.accountDeactivated(), OpenAI.AuthenticationError, 401],
    ['exhausted billing quota', mockErrors.insufficientQuota(), OpenAI.RateLimitError, 429],
  ])(
    "opens the key's circuit for every tenant on %s, answering as OpenAI did",
    async (_name, answer, raised, status) => {
      const { mock, events, client, clock, guard } = setup()
      mock.enqueue(answer)
      const first = await caught(client('t1').chat.completions.create({ model: 'gpt-4o-mini', messages }))
      expect(first).toBeInstanceOf(raised)
      const other = await caught(client('t2').chat.completions.create({ model: 'gpt-4o-mini', messages }))
      expect(other).toBeInstanceOf(raised)
      expect(headerOf(other, 'x-keyguard-circuit')).toBe('open')
      // sent once: neither openai-node nor the other tenant reached OpenAI again
      expect(mock.requests).toHaveLength(1)
      expect(events.filter((event) => event.type === 'circuit-open')).toHaveLength(1)

      // the local answer's body says the status it is sent with
      const raw = await guard.fetch('https://api.openai.com/v1/chat/completions', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4o-mini', messages }),
      })
      expect(raw.status).toBe(status)
      const text = await raw.text()
      expect(JSON.parse(text)).toMatchObject({ status, retryable: false })
      expect(text).not.toContain(canaryKey.slice(10, -6))
      expect(raw.headers.get('x-should-retry')).toBe('false')

      clock.advance(30_000)
      await client('t2').chat.completions.create({ model: 'gpt-4o-mini', messages })
      expect(events.filter((event) => event.type === 'circuit-closed')).toHaveLength(1)
    },
  )

  it("refuses a spent budget with keyguard's own type, once, saying when the period resets", async () => {
    const { mock, events, client, estimate } = await setupBudget()
    // the first call is billed its whole hold, so the second does not fit until December
    mock.enqueue({ usage: { promptTokens: estimate?.inputTokens ?? 0, completionTokens: 50 } })
    await client('t1').chat.completions.create(body)
    const refused = await caught(client('t1').chat.completions.create(body))
    // 402, an APIError of no narrower class: openai-node has none for it
    expect(refused).toBeInstanceOf(OpenAI.APIError)
    const error = refused as InstanceType<typeof OpenAI.APIError>
    expect(error).toMatchObject({ status: 402, code: 'budget.hard_limit', type: 'keyguard_budget_exceeded' })
    // 2026-11-28T12:00Z to 2026-12-01T00:00Z
    expect(headerOf(error, 'retry-after')).toBe(String(60 * 60 * 60))
    expect(headerOf(error, 'x-should-retry')).toBe('false')
    expect(events.filter((event) => event.type === 'denied')).toHaveLength(1)
    expect(mock.requests).toHaveLength(1)
  })

  it('hints a short wait for a budget that a running call holds, and still does not retry it', async () => {
    const { mock, client } = await setupBudget()
    const running = await client('t1').chat.completions.create({ ...body, stream: true })
    const refused = await caught(client('t1').chat.completions.create(body))
    expect(refused).toMatchObject({ code: 'budget.hard_limit' })
    expect(Number(headerOf(refused, 'retry-after-ms'))).toBeLessThanOrEqual(1000)
    expect(headerOf(refused, 'x-should-retry')).toBe('false')
    expect(mock.requests).toHaveLength(1)
    for await (const _chunk of running) {
    }
  })

  it('hints a short retry for a concurrency refusal, not the lease of the call that holds the slot', async () => {
    const { client } = setup([concurrencyLimit({ scope: 'tenant', limit: 1 })])
    const running = await client('t1').chat.completions.create({
      model: 'gpt-4o-mini',
      messages,
      stream: true,
    })
    const refused = await caught(client('t1', 0).chat.completions.create({ model: 'gpt-4o-mini', messages }))
    expect(refused).toBeInstanceOf(OpenAI.RateLimitError)
    const error = refused as InstanceType<typeof OpenAI.RateLimitError>
    expect(error).toMatchObject({ code: 'rate.concurrency', type: 'requests' })
    expect(Number(headerOf(error, 'retry-after-ms'))).toBeLessThanOrEqual(1000)
    expect(Number(headerOf(error, 'retry-after-ms'))).toBeGreaterThan(0)
    expect(headerOf(error, 'x-should-retry')).toBe('true')
    for await (const _chunk of running) {
    }
  })

  it('refuses a request that could cost more than can be counted as too large, not as a store outage to retry', async () => {
    const { mock, client } = setup([spendLimit({ scope: 'tenant', limit: 1_000_000, period: 'month' })])
    // n: 1e9 puts the hold past 2^53 nanos; the store would refuse the amount, and that read as an outage (503).
    const refused = await caught(
      client('t1').chat.completions.create({ model: 'gpt-4o-mini', messages, n: 1e9 }),
    )
    expect(refused).toMatchObject({ status: 413, code: 'estimate.too_large' })
    expect(headerOf(refused, 'x-should-retry')).toBe('false')
    expect(mock.requests).toHaveLength(0)
  })
})
