import { inspect } from 'node:util'
import { createMockOpenAI, mockErrors } from '@keyguard/testing'
import OpenAI from 'openai'
import { afterEach, describe, expect, it } from 'vitest'
import { spendLimit } from '../limits/spend-limit'
import { createKeyguard } from './create-keyguard'
import type { KeyguardEvent } from './keyguard-events'
import { keyguardResult } from './keyguard-result'

const canary = `sk-proj-${'N0deC4n4r'.repeat(5)}T3stZz9Q`
const servers: { close(): Promise<void> }[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()))
})

async function serve() {
  const mock = createMockOpenAI()
  const server = await mock.listen()
  servers.push(server)
  return { mock, baseUrl: server.url }
}

describe('createKeyguard over a real socket', () => {
  it('streams through Node’s own fetch to an HTTP upstream, and settles', async () => {
    const { mock, baseUrl } = await serve()
    const guard = createKeyguard({ key: canary, upstream: { baseUrl } })
    const openai = new OpenAI({ apiKey: 'unused', fetch: guard.fetch })
    const settled: KeyguardEvent[] = []
    guard.on('settle', (event) => settled.push(event))
    const stream = await openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Say hello' }],
      stream: true,
    })
    let text = ''
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? ''
    expect(text.length).toBeGreaterThan(0)
    // The client aimed at api.openai.com; only the configured base URL received the call and the key.
    expect(mock.requests[0]?.headers.authorization).toBe(`Bearer ${canary}`)
    await expect.poll(() => settled.length).toBe(1)
    expect(settled[0]).toMatchObject({ estimated: false, ending: 'complete' })
  })

  it('never shows the key in util.inspect of the guard, its results, events or errors', async () => {
    const { mock, baseUrl } = await serve()
    const guard = createKeyguard({
      key: canary,
      upstream: { baseUrl },
      limits: [spendLimit({ scope: 'global', limit: 1_000_000_000, period: 'day' })],
    })
    const events: KeyguardEvent[] = []
    for (const type of [
      'settle',
      'upstream-error',
      'circuit-open',
      'denied',
      'upstream-rate-limits',
    ] as const)
      guard.on(type, (event) => events.push(event))
    const ok = await guard.fetch(`${baseUrl}/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] }),
    })
    await ok.text()
    await keyguardResult(ok)?.settled
    mock.enqueue(mockErrors.invalidKey())
    const refused = await guard.fetch(`${baseUrl}/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] }),
    })
    // A body that cannot be priced is refused before the key is touched.
    const unreadable = await guard.fetch(`${baseUrl}/chat/completions`, {
      method: 'POST',
      body: new Blob(['[not an object]']),
    })
    expect(unreadable.status).toBe(400)
    const printed = [
      inspect(guard, { depth: 10 }),
      inspect(keyguardResult(unreadable), { depth: 10 }),
      await unreadable.text(),
      inspect(keyguardResult(ok), { depth: 10 }),
      inspect(keyguardResult(refused), { depth: 10 }),
      inspect(events, { depth: 10 }),
      await refused.text(),
    ].join('\n')
    expect(events.map((event) => event.type)).toEqual(
      expect.arrayContaining(['settle', 'upstream-error', 'circuit-open']),
    )
    expect(printed).not.toContain(canary)
    expect(printed).not.toContain(canary.slice(8, 30))
  })
})
