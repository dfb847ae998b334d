// LangChain (`@langchain/openai` ChatOpenAI) through `guard.fetch` against the mock, at its defaults: its
// caller retries every status but 400–407 and 409 (six times), whatever x-should-retry says. A reply and a
// stream are settled from usage; a spent budget (402) and a rate limit resetting in an hour (403) are
// raised at once, sent once, with their keyguard code.
import assert from 'node:assert/strict'
import { performance } from 'node:perf_hooks'
import * as core from '@keyguard/core'
import * as testing from '@keyguard/testing'
import { ChatOpenAI } from '@langchain/openai'

if (process.env.KEYGUARD_COMPAT_NODE) assert.equal(process.version, process.env.KEYGUARD_COMPAT_NODE)
const mock = testing.createMockOpenAI({ validKeys: [testing.exampleMockKey] })
const through = (limits) => {
  const guard = core.createKeyguard({ key: testing.exampleMockKey, upstream: { fetch: mock.fetch }, limits })
  const settles = []
  guard.on('settle', (event) => settles.push(event))
  const scoped = guard.for({ tenant: 't1' })
  const calls = []
  const chat = new ChatOpenAI({
    model: 'gpt-4o-mini',
    apiKey: 'held-by-keyguard',
    configuration: {
      fetch: (input, init) => {
        calls.push(String(input))
        return scoped.fetch(input, init)
      },
    },
  })
  return { chat, settles, calls }
}
const caught = (promise) =>
  promise.then(
    () => undefined,
    (error) => error,
  )

const served = through([core.spendLimit({ scope: 'tenant', limit: core.usd(1), period: 'month' })])
const reply = await served.chat.invoke('Say hello')
assert.ok(String(reply.content).length > 0, 'invoke returns text')
let text = ''
for await (const chunk of await served.chat.stream('Say hello')) text += chunk.content
assert.ok(text.length > 0, 'stream yields text')
for (let i = 0; i < 100 && served.settles.length < 2; i++)
  await new Promise((resolve) => setTimeout(resolve, 10))
assert.equal(served.settles.length, 2, 'both calls settle')
assert.ok(
  served.settles.every((event) => !event.estimated && event.costNanos > 0),
  'settled from real usage',
)

const upstreamBefore = mock.requests.length
const broke = through([core.spendLimit({ scope: 'tenant', limit: 1, period: 'month' })])
const started = performance.now()
const refused = await caught(broke.chat.invoke('Hi'))
const refusalMs = performance.now() - started
assert.equal(refused?.status, 402, `a 402, got ${refused}`)
assert.equal(refused.code, 'budget.hard_limit')
assert.equal(broke.calls.length, 1, 'the refusal is not retried')
assert.equal(mock.requests.length, upstreamBefore, 'nothing reached the upstream')

const hourly = through([core.requestLimit({ scope: 'tenant', limit: 1, windowMs: 3_600_000 })])
await hourly.chat.invoke('Hi')
const limited = await caught(hourly.chat.invoke('Hi'))
assert.equal(limited?.status, 403, `a 403, got ${limited}`)
assert.equal(limited.code, 'rate.requests')
assert.equal(hourly.calls.length, 2, 'the rate refusal is not retried')

console.log(
  `ok @langchain/openai: invoke and stream served, refusals raised at once (${refusalMs.toFixed(1)} ms) (node=${process.version})`,
)
