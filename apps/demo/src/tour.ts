// The keyguard tour: `pnpm demo`. No key, no network: the upstream is the mock from @keyguard/testing.
import type { AddressInfo } from 'node:net'
import { createKeyguard, credits, formatUsd, usd } from '@keyguard/core'
import { loadKeys } from '@keyguard/node'
import { createMockOpenAI, exampleMockKey } from '@keyguard/testing'
import { createApp } from 'keyguard-example-express/app'
import OpenAI from 'openai'

const quiet = process.argv.includes('--quiet')
const say = (text = '') => quiet || console.log(text)
const dollars = (nanos: number) => formatUsd(nanos, { digits: 7 })
const chat = {
  model: 'gpt-4o-mini',
  max_completion_tokens: 200,
  messages: [{ role: 'user' as const, content: 'Write a haiku about budgets.' }],
}

// Every answer from the mock reports 150 output tokens, so costs are easy to follow.
const mock = createMockOpenAI({ validKeys: [exampleMockKey], usage: { completionTokens: 150 } })
const upstream = await mock.listen()

say('keyguard tour: no key, no network. The upstream is the MOCK OpenAI server from @keyguard/testing.\n')

say("1. Load the key the way an app does (here the mock's; yours comes from OPENAI_API_KEY or a _FILE):")
const { apiKey } = loadKeys({ env: { OPENAI_API_KEY: exampleMockKey }, envFile: false })
say(`   ${apiKey?.kind} key ${apiKey?.fingerprint}; printed anywhere it shows as ${String(apiKey?.secret)}\n`)

const { app, guard } = createApp({
  key: exampleMockKey,
  upstream: { baseUrl: upstream.url },
  virtualKeys: { 'kg-tour-acme': { tenant: 'acme' }, 'kg-tour-globex': { tenant: 'globex' } },
  log: (line) => say(`   ⚠ ${line}`),
})

say('2. Know the cost before the call:')
const estimate = await guard.estimate({ endpoint: '/v1/chat/completions', body: chat })
if (estimate)
  say(
    `   ${estimate.inputTokens} input tokens, at most ${estimate.maxOutputTokens} output: ${dollars(estimate.minCostNanos)} to ${dollars(estimate.maxCostNanos)}\n`,
  )

const server = app.listen(0, '127.0.0.1')
await new Promise((resolve) => server.once('listening', resolve))
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`

say(`3. Two tenants call the Express example's OpenAI-compatible route (${base})`)
say('   with openai-node and their virtual keys. Each may spend $0.0005 a month, warned at 50% and 80%.')
say(
  "   RateLimit headers are IETF structured fields: r = nano-USD left after this call's hold, t = seconds to reset.",
)
const client = (apiKey: string) => new OpenAI({ baseURL: base, apiKey, maxRetries: 0 })
let blocked = 0
for (const [tenant, calls] of [
  ['acme', 6],
  ['globex', 2],
] as const) {
  const openai = client(`kg-tour-${tenant}`)
  for (let call = 1; call <= calls; call++) {
    const label = `   ${tenant.padEnd(6)} call ${call}:`
    try {
      const { response } = await openai.chat.completions.create(chat).withResponse()
      const header = (name: string) => dollars(Number(response.headers.get(name)))
      say(
        `${label} 200  cost ${header('x-keyguard-cost')} (held up to ${header('x-keyguard-estimate')} while it ran)`,
      )
      say(`                 RateLimit: ${response.headers.get('ratelimit')}`)
    } catch (error) {
      if (!(error instanceof OpenAI.APIError)) throw error
      blocked++
      say(
        `${label} ${error.status}  ${(error.error as { code?: string } | undefined)?.code}: ${error.message.replace(/^\d+ /, '')}`,
      )
      const retry = error.headers?.get('retry-after')
      say(
        `                 Retry-After: ${retry} s, x-should-retry: ${error.headers?.get('x-should-retry')}; nothing went upstream`,
      )
    }
  }
}

say('\n4. Prepaid credits with auto-recharge (core only, no framework): user u1 starts with $0.0003.')
const prepaid = createKeyguard({
  key: exampleMockKey,
  upstream: { baseUrl: upstream.url },
  limits: [
    credits({
      scope: 'user',
      autoRecharge: { threshold: usd(0.0002), amount: usd(0.001), maxPerPeriod: 2, recharge: () => {} },
    }),
  ],
})
prepaid.on('recharge-succeeded', (event) =>
  say(
    `   ↻ ${event.scope} fell under $0.0002: recharged ${dollars(event.amountNanos)} (your recharge() charges the card)`,
  ),
)
await prepaid.credits.grant({ user: 'u1' }, usd(0.0003))
const u1 = new OpenAI({ apiKey: 'unused', fetch: prepaid.for({ user: 'u1' }).fetch, maxRetries: 0 })
for (let call = 1; call <= 3; call++) {
  await u1.chat.completions.create(chat)
  await new Promise((resolve) => setTimeout(resolve, 20)) // settlement and the recharge finish after the body is read
  say(`   u1 call ${call}: balance ${dollars(await prepaid.credits.balance({ user: 'u1' }))}`)
}

say('\n5. Spend this month, per tenant:')
say('   tenant   spent       limit       left')
for (const tenant of ['acme', 'globex']) {
  const spend = (await guard.usage({ tenant })).find((state) => state.kind === 'spend')
  if (spend)
    say(
      `   ${tenant.padEnd(8)} ${dollars(spend.used).padEnd(11)} ${dollars(spend.limit ?? 0).padEnd(11)} ${dollars(spend.remaining ?? 0)}`,
    )
}
say(
  `\n   ${mock.requests.length} calls reached the upstream; ${blocked} blocked by keyguard before leaving the app.`,
)
say('   Next: apps/express, apps/hono and apps/node-script, each with a README of curls.')

server.closeAllConnections()
server.close()
await upstream.close()
