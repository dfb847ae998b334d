// A batch job that summarises documents for two users, each with their own daily budget and token rate.
import { createKeyguard, formatUsd, spendLimit, tokenLimit, usd } from '@keyguard/core'
import { loadKeys } from '@keyguard/node'
import { exampleUpstream } from '@keyguard/testing'
import OpenAI from 'openai'

// OPENAI_API_KEY from the environment, then ./.env, then OPENAI_API_KEY_FILE, as `keyguard doctor` reads
// it; every problem is thrown at once with the fix.
const { apiKey } = loadKeys({ required: false })
// Without a key, the mock upstream answers in-process, reporting 150 output tokens an answer.
const upstream = exampleUpstream(apiKey?.secret.reveal(), { usage: { completionTokens: 150 } })
console.log(`upstream: ${upstream.description}`)

// Each user: $0.0003 a day (a warning at 60%), and a token bucket of 20k refilling 300 a second.
const daily = spendLimit({ name: 'daily', scope: 'user', limit: usd(0.0003), period: 'day', softAt: [0.6] })
const tpm = tokenLimit({ name: 'tpm', scope: 'user', capacity: 20_000, refillPerSecond: 300 })
const guard = createKeyguard({ ...upstream.guardOptions, limits: [daily, tpm] })
guard.on('soft-limit', (event) =>
  console.warn(`soft limit: ${event.scope} spent ${formatUsd(event.usedNanos)} today`),
)
guard.on('settle', (event) => console.log(`  settled ${event.model}: ${formatUsd(event.costNanos)}`))

const request = {
  model: 'gpt-4o-mini',
  max_completion_tokens: 200,
  messages: [{ role: 'user' as const, content: 'Summarise: keyguard guards an app’s OpenAI key.' }],
}
const estimate = await guard.estimate({ endpoint: '/v1/chat/completions', body: request })
console.log(
  `each call costs ${formatUsd(estimate?.minCostNanos ?? 0)} to ${formatUsd(estimate?.maxCostNanos ?? 0)}`,
)

for (const user of ['ana', 'ben']) {
  const openai = new OpenAI({ apiKey: 'held-by-keyguard', fetch: guard.for({ user }).fetch, maxRetries: 0 })
  for (let document = 1; document <= (user === 'ana' ? 4 : 1); document++) {
    try {
      const completion = await openai.chat.completions.create(request)
      console.log(`${user} document ${document}: ${completion.choices[0]?.message.content}`)
    } catch (error) {
      if (!(error instanceof OpenAI.APIError)) throw error
      // keyguard refused before anything was sent: its code says why.
      console.log(
        `${user} document ${document}: refused, ${error.status} ${error.headers?.get('x-keyguard-error-code')}`,
      )
    }
  }
}
