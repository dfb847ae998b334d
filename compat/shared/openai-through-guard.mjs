// One openai-node major driven through `guard.fetch` against the mock upstream: a JSON completion
// settled at its real cost, a stream settled when it ends, and a hard-limit refusal that reaches the
// client at once with its keyguard code. Each openai-v* project passes in its own installed modules,
// so this file resolves nothing itself.
import assert from 'node:assert/strict'

const header = (headers, name) => (typeof headers?.get === 'function' ? headers.get(name) : headers?.[name])

/**
 * @param {{ OpenAI: any, core: any, testing: any, installed: string, major: number }} modules
 */
export async function openaiThroughGuard({ OpenAI, core, testing, installed, major }) {
  if (process.env.KEYGUARD_COMPAT_NODE) assert.equal(process.version, process.env.KEYGUARD_COMPAT_NODE)
  assert.equal(
    String(installed).split('.')[0],
    String(major),
    `openai ${installed} installed, expected v${major}`,
  )
  const mock = testing.createMockOpenAI({ validKeys: [testing.exampleMockKey] })
  const guard = core.createKeyguard({
    key: testing.exampleMockKey,
    upstream: { fetch: mock.fetch },
    limits: [core.spendLimit({ scope: 'tenant', limit: core.usd(1), period: 'month' })],
  })
  const settles = []
  guard.on('settle', (event) => settles.push(event))
  const openai = new OpenAI({ apiKey: 'held-by-keyguard', fetch: guard.for({ tenant: 't1' }).fetch })

  const completion = await openai.chat.completions.create({
    model: 'gpt-4o-mini',
    max_completion_tokens: 50,
    messages: [{ role: 'user', content: 'Say hello' }],
  })
  assert.ok(completion.choices[0].message.content.length > 0, 'a completion comes back')
  assert.equal(mock.requests[0].headers.authorization, `Bearer ${testing.exampleMockKey}`)

  const stream = await openai.chat.completions.create({
    model: 'gpt-4o-mini',
    max_completion_tokens: 50,
    messages: [{ role: 'user', content: 'Say hello' }],
    stream: true,
  })
  let text = ''
  for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? ''
  assert.ok(text.length > 0, 'the stream yields text')
  for (let i = 0; i < 100 && settles.length < 2; i++) await new Promise((resolve) => setTimeout(resolve, 10))
  assert.equal(settles.length, 2, 'both calls settle')
  assert.ok(
    settles.every((event) => !event.estimated && event.costNanos > 0),
    'settled from real usage',
  )

  // A tenant with no budget left: refused locally, with x-should-retry: false, so no retry loop.
  const tiny = core.createKeyguard({
    key: testing.exampleMockKey,
    upstream: { fetch: mock.fetch },
    limits: [core.spendLimit({ scope: 'tenant', limit: 1, period: 'month' })],
  })
  const refused = new OpenAI({ apiKey: 'held-by-keyguard', fetch: tiny.for({ tenant: 'broke' }).fetch })
  const before = mock.requests.length
  const error = await refused.chat.completions
    .create({ model: 'gpt-4o-mini', max_completion_tokens: 50, messages: [{ role: 'user', content: 'hi' }] })
    .then(
      () => undefined,
      (caught) => caught,
    )
  assert.ok(error instanceof OpenAI.APIError, `an APIError, got ${error}`)
  assert.equal(header(error.headers, 'x-keyguard-error-code'), 'budget.hard_limit')
  assert.equal(mock.requests.length, before, 'nothing reached the upstream')
  return `openai ${installed}: completion, stream and refusal through guard.fetch`
}
